'use strict'

// A client for Postfix's socketmap protocol (socketmap_table(5)), the lookup service Hermod
// serves to Postfix: the same maps answer Haraka, so Hermod needs no second lookup endpoint.
// Each request is a netstring "MAP KEY", each reply a netstring "OK value", "NOTFOUND ",
// "TEMP reason", "TIMEOUT reason" or "PERM reason". Replies come back in request order on one
// connection, so a connection carries a FIFO of pending lookups.

const net = require('node:net')

/** Longest reply accepted: Hermod's values are addresses, far below this. */
const MAX_REPLY_BYTES = 10000

function encodeNetstring(text) {
    const payload = Buffer.from(text, 'utf8')
    return Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(',')])
}

/**
 * Splits netstrings off a byte stream. Bounded: a length prefix over `max` or a malformed frame
 * throws, and the caller drops the connection.
 */
class NetstringReader {
    constructor(max) {
        this.max = max
        this.buffer = Buffer.alloc(0)
    }

    push(chunk) {
        this.buffer = Buffer.concat([this.buffer, chunk])
        const out = []
        for (;;) {
            const colon = this.buffer.indexOf(0x3a)
            if (colon < 0) {
                if (this.buffer.length > 10) throw new Error('netstring length prefix too long')
                return out
            }
            const digits = this.buffer.subarray(0, colon).toString('latin1')
            if (!/^\d{1,9}$/.test(digits)) throw new Error('bad netstring length')
            const length = Number(digits)
            if (length > this.max) throw new Error(`netstring of ${length} bytes is over ${this.max}`)
            const end = colon + 1 + length
            if (this.buffer.length < end + 1) return out
            if (this.buffer[end] !== 0x2c) throw new Error('netstring not terminated by a comma')
            out.push(this.buffer.subarray(colon + 1, end).toString('utf8'))
            this.buffer = this.buffer.subarray(end + 1)
        }
    }
}

/** One connection with its pending lookups; opened on first use, reopened after a failure. */
class SocketmapConnection {
    constructor(options) {
        this.options = options
        this.socket = null
        this.pending = []
    }

    lookup(map, key) {
        return new Promise((resolve, reject) => {
            const socket = this.socket ?? this.open()
            const entry = { resolve, reject }
            entry.timer = setTimeout(() => this.fail(socket, new Error('socketmap lookup timed out')), this.options.timeoutMs)
            this.pending.push(entry)
            socket.write(encodeNetstring(`${map} ${key}`))
        })
    }

    open() {
        const { host, port, localAddress } = this.options
        const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) })
        const reader = new NetstringReader(MAX_REPLY_BYTES)
        socket.setNoDelay(true)
        socket.on('data', (chunk) => {
            let replies
            try {
                replies = reader.push(chunk)
            } catch (err) {
                return this.fail(socket, err)
            }
            for (const reply of replies) this.settle(reply)
        })
        socket.on('error', (err) => this.fail(socket, err))
        // Hermod closes idle lookup connections; the next lookup opens a new one.
        socket.on('close', () => this.fail(socket, new Error('socketmap connection closed')))
        this.socket = socket
        return socket
    }

    settle(reply) {
        const entry = this.pending.shift()
        if (!entry) return
        clearTimeout(entry.timer)
        const space = reply.indexOf(' ')
        const status = space < 0 ? reply : reply.slice(0, space)
        entry.resolve({ status, value: space < 0 ? '' : reply.slice(space + 1) })
    }

    /** A broken connection fails every lookup waiting on it: their replies can no longer be paired. */
    fail(socket, err) {
        if (this.socket !== socket) return
        this.socket = null
        socket.destroy()
        for (const entry of this.pending.splice(0)) {
            clearTimeout(entry.timer)
            entry.reject(err)
        }
    }

    close() {
        if (this.socket) this.fail(this.socket, new Error('socketmap client closed'))
    }
}

/**
 * A few connections used in turn. A lookup that fails on the connection (not a TEMP reply) is
 * tried again on the next one, after a short pause, until every connection has had a turn and a
 * new one was opened, or `timeoutMs` has passed: when a Hermod node dies, every pooled connection
 * HAProxy had given to it breaks, and a new connection may still reach it until HAProxy's health
 * check marks it down; the pauses give that check time, so one dead node does not turn into a
 * 451 at RCPT.
 */
/** Pause before the n-th retry of a failed lookup: n × this. */
const RETRY_PAUSE_MS = 150

class SocketmapClient {
    constructor({ host, port, timeoutMs = 5000, connections = 4, localAddress }) {
        const options = { host, port, timeoutMs, localAddress }
        this.connections = Array.from({ length: Math.max(1, connections) }, () => new SocketmapConnection(options))
        this.timeoutMs = timeoutMs
        this.next = 0
    }

    /** Resolves to { status, value }; rejects when Hermod could not be asked. */
    async lookup(map, key) {
        const started = Date.now()
        const attempts = this.connections.length + 1
        for (let attempt = 1; ; attempt++) {
            try {
                return await this.pick().lookup(map, key)
            } catch (err) {
                if (attempt >= attempts || Date.now() - started >= this.timeoutMs) throw err
                await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt))
            }
        }
    }

    pick() {
        this.next = (this.next + 1) % this.connections.length
        return this.connections[this.next]
    }

    close() {
        for (const connection of this.connections) connection.close()
    }
}

module.exports = { SocketmapClient, NetstringReader, encodeNetstring }
