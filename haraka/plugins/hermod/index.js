'use strict'

// Hermod behind Haraka: recipients are checked at RCPT against Hermod's socketmap lookup
// service (the one Postfix uses), accepted mail goes into Haraka's outbound queue and from there
// over LMTP to HAProxy, which spreads it over the Hermod nodes with PROXY v2; every LMTP
// connection opens with XCLIENT so that Hermod records Haraka's client, not Haraka.

const os = require('node:os')
const constants = require('haraka-constants')
const DSN = require('haraka-dsn')
const { SocketmapClient } = require('./lib/socketmap-client')
const { clientOf, introduce, xclientCommand } = require('./lib/xclient')

exports.register = function () {
    this.outbound = this.haraka_require('outbound')
    this.client_pool = this.haraka_require('outbound/client_pool')
    this.load_hermod_ini()
    patchOutbound(this)
}

exports.load_hermod_ini = function () {
    this.cfg = this.config.get('hermod.ini', { booleans: [] }, () => this.load_hermod_ini())
    const lookup = this.cfg.lookup ?? {}
    this.lookups?.close()
    this.lookups = new SocketmapClient({
        host: lookup.host ?? '127.0.0.1',
        port: Number(lookup.port ?? 2427),
        timeoutMs: Number(lookup.timeout ?? 5) * 1000,
        connections: Number(lookup.connections ?? 4),
        localAddress: lookup.bind || undefined,
    })
}

exports.shutdown = function () {
    this.lookups?.close()
}

/** Temporary: the sender keeps the message and tries again (RFC 5321 4xx). */
const lookupFailure = () => DSN.sys_unspecified('Temporary lookup failure, try again later', 451)

exports.hook_rcpt = function (next, connection, params) {
    const address = String(params[0].address ?? '')
    this.classify(address).then(
        (verdict) => {
            connection.transaction?.results.add(this, { [verdict === 'local' ? 'pass' : verdict === 'unknown' ? 'fail' : 'skip']: address })
            if (verdict === 'local') return next(constants.ok)
            if (verdict === 'unknown') return next(constants.deny, DSN.no_such_user('No such user here'))
            // Not a Hermod domain: relayed only when another plugin vouched for this client
            // (connection.relaying, e.g. Haraka's relay plugin); otherwise refused with an
            // enhanced code, which Haraka's own fallback refusal lacks.
            if (connection.relaying) return next()
            return next(constants.deny, DSN.relaying_denied(`Relaying denied for ${address}`))
        },
        (err) => {
            connection.logerror(this, `recipient lookup for ${address} failed: ${err.message}`)
            connection.transaction?.results.add(this, { err: `lookup: ${err.message}` })
            next(constants.denysoft, lookupFailure())
        },
    )
}

/**
 * 'local' (a mailbox or alias), 'unknown' (a local domain, no such address) or 'foreign'.
 * Throws when Hermod could not be asked or answered TEMP/TIMEOUT/PERM (as Postfix, a table
 * error defers: never accept blind, never refuse for an outage).
 */
exports.classify = async function (address) {
    const mailbox = await this.lookups.lookup('mailbox', address)
    if (mailbox.status === 'OK') return 'local'
    if (mailbox.status !== 'NOTFOUND') throw new Error(`mailbox map: ${mailbox.status} ${mailbox.value}`)
    const domain = await this.lookups.lookup('domain', address.slice(address.lastIndexOf('@') + 1))
    if (domain.status === 'OK') return 'unknown'
    if (domain.status !== 'NOTFOUND') throw new Error(`domain map: ${domain.status} ${domain.value}`)
    return 'foreign'
}

exports.hook_queue = function (next, connection) {
    const txn = connection.transaction
    if (!txn) return next()
    // Kept in the queue file with the message: a retry later still names the right client.
    txn.notes.hermod_client = clientOf(connection)
    this.outbound.send_trans_email(txn, next)
}

exports.hook_get_mx = function (next, hmail) {
    if (!hmail.todo.notes?.hermod_client) return next()
    const lmtp = this.cfg.lmtp ?? {}
    next(constants.ok, {
        using_lmtp: true,
        priority: 0,
        exchange: lmtp.host ?? '127.0.0.1',
        port: Number(lmtp.port ?? 24),
        // Haraka fills this in itself only outside NODE_ENV=test; an empty LHLO would be refused.
        bind_helo: this.config.get('me') || os.hostname(),
        ...(lmtp.bind ? { bind: lmtp.bind } : {}),
    })
}

/**
 * Haraka's outbound offers no hook between connecting and its own LHLO, so the hand-over
 * (greeting, LHLO, XCLIENT) is put in front of the method that starts the dialogue, for LMTP
 * deliveries of this plugin's messages only. A failed hand-over counts as a failed MX: Haraka
 * keeps the message queued and retries it; nothing is bounced for it.
 */
function patchOutbound(plugin) {
    const proto = plugin.outbound.HMailItem.prototype
    if (proto.try_deliver_host_on_socket.hermodXclient) return
    const original = proto.try_deliver_host_on_socket
    const patched = function (mx, host, port, socket) {
        const client = this.todo?.notes?.hermod_client
        if (!mx.using_lmtp || !client) return original.call(this, mx, host, port, socket)
        const timeoutMs = Number(plugin.cfg.lmtp?.timeout ?? 30) * 1000
        introduce(socket, { helo: mx.bind_helo, command: xclientCommand(client), timeoutMs }, (err, greeting) => {
            if (err) {
                this.logerror(`${err.message}; the message stays queued`)
                plugin.client_pool.release_client(socket, mx)
                return this.try_deliver()
            }
            original.call(this, mx, host, port, socket)
            // Haraka's dialogue starts at a greeting: the one XCLIENT answered with.
            socket.emit('line', greeting)
        })
    }
    patched.hermodXclient = true
    proto.try_deliver_host_on_socket = patched
}
