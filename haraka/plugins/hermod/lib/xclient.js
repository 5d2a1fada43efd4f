'use strict'

// Hermod records the Internet client, not Haraka: Haraka names that client with XCLIENT
// (Postfix's XCLIENT_README) at the start of every LMTP connection, and Hermod honours it from
// the addresses in its xclient.trusted. Haraka's outbound has no hook for an extra command in
// its SMTP/LMTP dialogue, so this runs the opening of the dialogue itself (greeting, LHLO,
// XCLIENT) and hands the socket to Haraka at the fresh greeting XCLIENT answers with: from there
// Haraka's own code speaks LHLO, MAIL, RCPT, DATA and maps the per-recipient replies.

const net = require('node:net')

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i
const REPLY = /^(\d{3})([ -])(.*)$/
const UNAVAILABLE = '[UNAVAILABLE]'

/** RFC 3461 xtext: printable ASCII but '+' and '=' as-is, anything else as +HH. */
function xtext(value) {
    let out = ''
    for (const byte of Buffer.from(String(value), 'utf8')) {
        out += byte > 0x20 && byte < 0x7f && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
    return out
}

/**
 * What Haraka knew of its client, kept in the transaction's notes (and so in the queue file:
 * a retry hours later still names the right client).
 */
function clientOf(connection) {
    return {
        addr: connection.remote?.ip ?? null,
        port: connection.remote?.port ?? null,
        name: connection.remote?.host ?? null,
        helo: connection.hello?.host ?? null,
        proto: connection.hello?.verb === 'HELO' ? 'SMTP' : 'ESMTP',
    }
}

/** The XCLIENT command for `client`; what Haraka does not know is sent as [UNAVAILABLE]. */
function xclientCommand(client) {
    const addr = net.isIPv6(client.addr ?? '') ? `IPV6:${client.addr}` : net.isIPv4(client.addr ?? '') ? client.addr : UNAVAILABLE
    const name = HOSTNAME.test(client.name ?? '') ? client.name : UNAVAILABLE
    const port = Number.isInteger(client.port) && client.port > 0 && client.port < 65536 ? String(client.port) : UNAVAILABLE
    // A HELO name with control or non-ASCII bytes is refused by XCLIENT as a whole: unknown instead.
    const helo = /^[\x21-\x7e]{1,255}$/.test(client.helo ?? '') ? xtext(client.helo) : UNAVAILABLE
    return `XCLIENT ADDR=${addr} NAME=${name} PORT=${port} HELO=${helo} PROTO=${client.proto === 'SMTP' ? 'SMTP' : 'ESMTP'}`
}

/**
 * Greeting → LHLO → XCLIENT on a fresh outbound socket (Haraka's line socket, which emits
 * 'line'). Calls back with the greeting line XCLIENT answered with, for Haraka to read as the
 * server's greeting; or with an error (XCLIENT not offered or refused, timeout, connection
 * gone), which Haraka treats as this MX failing: the message stays queued and is retried.
 */
function introduce(socket, { helo, command, timeoutMs }, callback) {
    const steps = ['greeting', 'lhlo', 'xclient']
    let step = 0
    let lines = []
    let finished = false
    const finish = (err, greeting) => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        socket.removeListener('line', onLine)
        socket.removeListener('error', onError)
        socket.removeListener('close', onClose)
        callback(err, greeting)
    }
    const onError = (err) => finish(new Error(`XCLIENT hand-over: ${err.message ?? err}`))
    const onClose = () => finish(new Error('XCLIENT hand-over: connection closed'))
    const timer = setTimeout(() => finish(new Error(`XCLIENT hand-over: no reply to ${steps[step]}`)), timeoutMs)
    const onLine = (raw) => {
        const line = raw.replace(/\r?\n$/, '')
        const match = REPLY.exec(line)
        if (!match) return finish(new Error(`XCLIENT hand-over: unreadable reply ${JSON.stringify(line.slice(0, 80))}`))
        lines.push(match[3])
        if (match[2] === '-') return undefined
        const code = match[1]
        const text = lines
        lines = []
        switch (steps[step]) {
            case 'greeting':
                if (code !== '220') return finish(new Error(`XCLIENT hand-over: greeting ${code} ${text.join(' ')}`))
                step++
                return socket.write(`LHLO ${helo}\r\n`)
            case 'lhlo':
                if (code !== '250') return finish(new Error(`XCLIENT hand-over: LHLO answered ${code} ${text.join(' ')}`))
                if (!text.some((t) => /^XCLIENT\b/i.test(t))) {
                    return finish(new Error('XCLIENT hand-over: Hermod does not offer XCLIENT to this host (xclient.trusted)'))
                }
                step++
                return socket.write(`${command}\r\n`)
            default:
                if (code !== '220') return finish(new Error(`XCLIENT hand-over: XCLIENT answered ${code} ${text.join(' ')}`))
                return finish(null, raw)
        }
    }
    socket.on('line', onLine)
    socket.on('error', onError)
    socket.on('close', onClose)
}

module.exports = { clientOf, introduce, xclientCommand, xtext }
