/**
 * Hermod's room rules (see README, "How a message flows"). `test/architecture/dependency-rules.test.ts`
 * runs them in `npm test`; `npx depcruise src plugins` prints the same report.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-not-to-store',
      comment: 'The listeners speak SMTP and ask the transaction core; they never touch the store.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'protocol-not-to-queue',
      comment: 'Submission hands messages to a submitter it is given, not to the queue room.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/queue/' },
    },
    {
      name: 'queue-not-to-protocol',
      comment: 'Outbound delivery to local mailboxes goes through the transaction core, not the listeners.',
      severity: 'error',
      from: { path: '^src/queue/' },
      to: { path: '^src/protocol/' },
    },
    {
      name: 'plugins-only-to-plugin-api',
      comment: 'A plugin imports the plugin API (hermod/plugin) and its own folder, nothing else of Hermod.',
      severity: 'error',
      from: { path: '^plugins/([^/]+)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(src|plugins|test|bench)/', pathNot: ['^src/plugin-api\\.ts$', '^plugins/$1/'] },
    },
    {
      name: 'plugin-list-only-to-plugins',
      comment: 'The list of built-in plugins names plugin folders and the plugin API only.',
      severity: 'error',
      from: { path: '^plugins/index\\.ts$' },
      to: { path: '^(src|test|bench)/', pathNot: '^src/plugin-api\\.ts$' },
    },
    {
      name: 'store-not-to-search',
      comment: 'The store records an outbox; the indexer (search room) drains it.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/search/' },
    },
    {
      name: 'search-not-to-protocol',
      severity: 'error',
      from: { path: '^src/search/' },
      to: { path: '^src/protocol/' },
    },
    {
      name: 'mail-is-neutral',
      comment: 'The mail room (replies, Received, address syntax) is shared by everyone and depends on no other room.',
      severity: 'error',
      from: { path: '^src/mail/' },
      to: { path: '^src/', pathNot: ['^src/mail/', '^src/errors\\.ts$'] },
    },
    {
      name: 'only-the-cli-imports-the-cli',
      comment: 'The CLI is one front end over the admin room; the admin API and the server never borrow its helpers.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-barrels',
      comment:
        'One convention: a room in src/ has no index.ts; other rooms import the file that defines what they use, ' +
        'and these rules keep the boundaries. A plugin folder\'s index.ts is not a barrel but its manifest (plugins/index.ts lists them).',
      severity: 'error',
      from: {},
      to: { path: '^src/[^.]*/index\\.ts$' },
    },
    {
      name: 'no-file-cycles',
      severity: 'error',
      from: { path: '^(src|plugins)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Type-only imports are dependencies too: a room that names another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
