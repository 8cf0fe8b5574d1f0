/**
 * One pipelined connection to one server: a write queue flushed once per
 * tick, an in-flight queue matched with replies in order, a deadline on every
 * request, and reconnection on demand.
 *
 * @module
 */
import { consequence } from "../errors.ts";
import { pending, rejectLast, resolveLast } from "./promises.ts";
import { Status } from "../protocol/status.ts";
import { BinaryReplyParser } from "../protocol/binary.ts";
import type { Reply } from "../protocol/reply.ts";
import { TextReplyParser } from "../protocol/text_parser.ts";
import { ByteWriter } from "../protocol/writer.ts";
import {
  type Address,
  addressName,
  type Socket,
  type SocketFailure,
  unrefTimer,
} from "../transport/mod.ts";
import { DONE, InFlight, type Pending, QUEUED, SENT } from "./inflight.ts";
import { Leftover } from "./leftover.ts";
import { loginOf, openSocket } from "./open.ts";
import {
  type ConnectionOptions,
  failureAt,
  type Hello,
  type RequestSpec,
  strangerIn,
} from "./request.ts";

export type { ConnectionOptions, Hello, RequestSpec };

/**
 * A pipelined connection: requests are written without waiting for earlier
 * replies, and everything queued in one tick goes out in one write. A
 * request given up on keeps its place, so that its reply is read and
 * dropped. A server silent for `stallTimeout` while requests wait, or a
 * reply that cannot be trusted, resets the socket; requests not yet written
 * wait for the next one. An idle connection keeps no process alive.
 */
export class Connection {
  /** The server's name in errors: `host:port` or the socket path. */
  readonly server: string;
  readonly #address: Address;
  readonly #options: ConnectionOptions;
  readonly #parser: TextReplyParser | BinaryReplyParser;
  readonly #writer = new ByteWriter();
  #queued: Pending[] = [];
  readonly #inflight = new InFlight();
  readonly #leftover = new Leftover();
  #socket?: Socket;
  /** Gives up the socket being opened: set while one is. */
  #cancelConnect?: () => void;
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt = Infinity;
  #writing = false;
  #flushScheduled = false;
  /** {@linkcode #flush}, bound once rather than wrapped in a closure per request. */
  readonly #flushNow = () => this.#flush();
  #closed = false;
  /** When the server was last heard from, or the oldest outstanding request written. */
  #quietSince = 0;
  /** Whether the socket keeps the process alive (while requests are outstanding). */
  #held = false;
  /** Whether the current socket has received a reply. */
  #answered = false;
  /** The socket whose hello is not answered yet: nothing else is written to it until then. */
  #greeting?: Socket;
  /** That hello's request. */
  #hello?: Pending;

  /** When its pool saw it go idle (ms since the epoch), 0 while in use: the pool's to keep. */
  idleSince = 0;

  /** Makes a connection; nothing is opened until the first request. */
  constructor(address: Address, options: ConnectionOptions) {
    this.#address = address;
    this.#options = options;
    this.server = addressName(address);
    this.#parser = options.binary
      ? new BinaryReplyParser(options.maxValueSize)
      : new TextReplyParser(options.maxValueSize, options.textFlags, options.asciiText);
  }

  /** How many requests are queued or in flight, abandoned ones included. */
  get load(): number {
    return this.#queued.length + this.#inflight.size;
  }

  /**
   * Whether a request for `key` was given up on and its reply is still due:
   * later requests for the key must follow it here, or a write the caller
   * saw fail could land after one it saw succeed.
   */
  holds(key: string): boolean {
    return this.#inflight.holds(key);
  }

  /**
   * Whether a request made now may join this connection where a socket
   * belongs to the request that opened it (Workers): when it is idle, or
   * when the requests it has are of this very turn and not written yet.
   */
  get joinable(): boolean {
    return this.load === 0 || this.#flushScheduled;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request; resolves with its reply, whatever its status. */
  request(spec: RequestSpec): Promise<Reply> {
    if (this.#closed) {
      return Promise.reject(
        failureAt(this.server, Status.CONNECTION_FAILURE, "client is closed", spec),
      );
    }
    if (spec.signal?.aborted) return Promise.reject(spec.signal.reason);
    const promise = pending<Reply>();
    const deadline = Number.isFinite(spec.timeout) ? Date.now() + spec.timeout : Infinity;
    const p: Pending = { spec, state: QUEUED, resolve: resolveLast, reject: rejectLast, deadline };
    if (deadline < this.#timerAt) this.#arm(deadline);
    if (spec.signal) this.#watch(p, spec.signal);
    this.#queued.push(p);
    if (!this.#held) this.#hold(true);
    this.#schedule();
    return promise;
  }

  /**
   * Abandons `p` when `signal` aborts. Its own method, so that the closure
   * does not make every request allocate a scope for it.
   */
  #watch(p: Pending, signal: AbortSignal): void {
    p.onAbort = () => this.#abandon(p, signal.reason);
    signal.addEventListener("abort", p.onAbort, { once: true });
  }

  /** Closes the socket; waiting requests reject with ConnectionError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelConnect?.();
    this.#reset(Status.CONNECTION_FAILURE, "client closed");
    this.#failQueued(Status.CONNECTION_FAILURE, "client closed");
    this.#disarm();
  }

  /**
   * One timer per connection, set for the earliest deadline: requests with
   * the usual timeout are added later than it, so they cost no timer call.
   * It stays set when the connection goes idle (and simply finds nothing
   * due), so that one request after another does not set and clear it each
   * time; closing the connection clears it.
   */
  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - Date.now()));
    // An outstanding request keeps the process alive through its socket.
    unrefTimer(this.#timer);
  }

  /** Lets the socket keep the process alive, or not. */
  #hold(held: boolean): void {
    this.#held = held;
    this.#socket?.setRef?.(held);
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /**
   * Expires every request past its deadline, resets a socket whose server
   * has been silent for `stallTimeout`, then waits for the next of these.
   */
  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    const pending = [...this.#queued, ...this.#inflight.list()];
    for (const p of pending) if (p.state !== DONE && p.deadline <= now) this.#expire(p);
    const stall = this.#stallAt();
    if (stall <= now) {
      const ms = this.#options.stallTimeout;
      this.#fail(Status.TIMEOUT, `connection reset: no reply from the server for ${ms} ms`);
      if (this.#queued.length) this.#schedule();
    }
    let next = this.#stallAt();
    for (const p of pending) if (p.state !== DONE && p.deadline < next) next = p.deadline;
    if (next < Infinity) this.#arm(next);
  }

  /** When the server's silence makes it failed: Infinity while nothing is outstanding. */
  #stallAt(): number {
    return this.#socket && this.#inflight.size > 0
      ? this.#quietSince + this.#options.stallTimeout
      : Infinity;
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#writing) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushNow);
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#writing || this.#closed) return;
    const socket = this.#socket;
    if (!socket) {
      if (this.#queued.some((p) => p.state === QUEUED)) this.#connect();
      return;
    }
    if (this.#greeting === socket && this.#hello?.state !== QUEUED) return;
    const w = this.#writer;
    w.reset();
    // The server's silence is timed from the first request it owes a reply.
    if (this.#inflight.size === 0) this.#quietSince = Date.now();
    let sent = 0;
    let written: (() => void)[] | undefined;
    const queued = this.#queued;
    for (let i = 0; i < queued.length; i++) {
      const p = queued[i];
      sent++;
      if (p.state !== QUEUED) continue;
      p.spec.encode(w);
      if (p.spec.written) (written ??= []).push(p.spec.written);
      p.state = SENT;
      this.#inflight.push(p);
      // Nothing follows the hello until it is answered: a refused login must
      // not see requests behind it, and some commands must come alone.
      if (p === this.#hello) break;
    }
    this.#queued = sent === this.#queued.length ? [] : this.#queued.slice(sent);
    // Only requests given up on were queued: nothing waits any more.
    if (w.length === 0) return this.#checkIdle();
    // Requests with the usual timeout have deadlines before this; a shorter
    // one of their own does not hide the server's silence.
    const stall = this.#stallAt();
    if (stall < this.#timerAt) this.#arm(stall);
    this.#writing = true;
    socket.write(w.view()).then(
      () => {
        this.#writing = false;
        if (written) { for (const told of written) told(); }
        if (this.#queued.length) this.#schedule();
      },
      (failure: SocketFailure) => {
        this.#writing = false;
        if (socket === this.#socket) {
          this.#fail(failure.status, failure.message, failure.cause, false, failure.unsent);
        }
        if (this.#queued.length) this.#schedule();
      },
    );
  }

  #connect(): void {
    if (this.#cancelConnect) return;
    let socket: Socket | undefined;
    const opening = openSocket(this.#address, this.#options, {
      data: (chunk) => {
        if (socket === this.#socket) this.#onData(chunk);
      },
      closed: (failure) => {
        if (socket !== this.#socket) return;
        const head = this.#inflight.oldest;
        const refused = !failure && head?.spec.refusable && this.#leftover.empty &&
          this.#parser.idle;
        if (refused) {
          this.#inflight.shift();
          this.#settle(
            head,
            undefined,
            failureAt(
              this.server,
              Status.NOT_SUPPORTED,
              "the server closed the connection instead of answering (a proxy that does not support this command?)",
              head.spec,
            ),
          );
        }
        const status = failure?.status ?? Status.CONNECTION_FAILURE;
        const why = failure?.message ?? "connection closed by the server";
        // A proxy refusing a command closes a healthy connection, and a server
        // may close an idle one: neither is a failure. A reconnect that
        // fails is.
        if (refused || this.#inflight.size === 0) this.#reset(status, why);
        else this.#fail(status, why, failure?.cause, failure?.tls, failure?.unsent);
        if (this.#queued.length) this.#schedule();
      },
    });
    this.#cancelConnect = opening.cancel;
    opening.socket.then(
      (opened) => {
        this.#cancelConnect = undefined;
        if (this.#closed) return opened.close();
        socket = opened;
        this.#socket = opened;
        this.#answered = false;
        opened.setRef?.(this.#held);
        if (this.#options.hello) this.#greet(this.#options.hello, opened);
        this.#schedule();
      },
      (failure: SocketFailure) => {
        this.#cancelConnect = undefined;
        if (this.#closed) return;
        this.#report(failure.status, failure.message, failure.cause, failure.tls);
        this.#failQueued(failure.status, failure.message, failure.cause, failure.tls);
      },
    );
  }

  /** Puts `hello` in front of everything queued for the new `socket`. */
  #greet(hello: Hello, socket: Socket): void {
    const login = loginOf(hello, this.#options.stallTimeout, (failure) => {
      if (this.#greeting !== socket) return;
      this.#greeting = undefined;
      this.#hello = undefined;
      if (!failure) return this.#schedule();
      this.#failQueued(failure.status, failure.detail);
      this.#fail(failure.status, failure.detail);
    });
    if (login.deadline < this.#timerAt) this.#arm(login.deadline);
    this.#hello = login;
    this.#greeting = socket;
    this.#queued.unshift(login);
  }

  #onData(chunk: Uint8Array): void {
    this.#quietSince = Date.now();
    const buf = this.#leftover.join(chunk);
    const end = buf.length;
    let start = 0;
    while (start < end) {
      const p = this.#inflight.oldest;
      if (!p) {
        return this.#reset(Status.PROTOCOL_ERROR, "the server sent bytes no request asked for");
      }
      const reply = this.#parser.parse(p.spec.expect, buf, start, end, p.spec.keys);
      start += this.#parser.used;
      if (!reply) break;
      this.#inflight.shift();
      if (!this.#answered) {
        this.#answered = true;
        this.#options.onAnswered?.();
      }
      const stranger = strangerIn(p.spec, reply);
      if (stranger) {
        reply.status = Status.PROTOCOL_ERROR;
        reply.line = stranger;
      }
      if (reply.status === Status.PROTOCOL_ERROR) {
        this.#settle(
          p,
          undefined,
          failureAt(this.server, Status.PROTOCOL_ERROR, reply.line, p.spec),
        );
        return this.#replace(
          Status.PROTOCOL_ERROR,
          `an earlier reply was malformed: ${reply.line}`,
        );
      }
      this.#settle(p, reply);
      if (!consequence(reply.status).reusable) {
        return this.#replace(reply.status, `the server refused this connection: ${reply.line}`);
      }
    }
    this.#leftover.keep(buf, start);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.load !== 0) return;
    if (this.#held) this.#hold(false);
    if (!this.#closed) this.#options.onIdle?.();
  }

  /**
   * Fails a request past its deadline like an aborted one, failing nothing
   * behind it: whether the server is stuck is told by its silence.
   */
  #expire(p: Pending): void {
    const ms = p.spec.timeout;
    const what = p.state === QUEUED && !this.#socket ? "no connection" : "no reply";
    this.#abandon(p, failureAt(this.server, Status.TIMEOUT, `${what} within ${ms} ms`, p.spec));
  }

  /** Rejects a request the caller gave up on, remembering its key while its reply is due. */
  #abandon(p: Pending, err: unknown): void {
    if (p.state === SENT) this.#inflight.abandon(p);
    this.#settle(p, undefined, err);
  }

  /** Ends a request once; a sent one stays in flight until its reply is read. */
  #settle(p: Pending, reply?: Reply, err?: unknown): void {
    if (p.state === DONE) return;
    p.state = DONE;
    if (p.onAbort) p.spec.signal?.removeEventListener("abort", p.onAbort);
    if (reply) p.resolve(reply);
    else p.reject(err);
  }

  /**
   * Closes the socket after a failure of `status`, and tells the owner when
   * it counts against the server. With `unsent`, the last write never left
   * (Workers refuse I/O on a socket another request opened): its requests
   * go back to the queue for the next socket, and nothing is counted.
   */
  #fail(
    status: Status,
    detail: string,
    cause?: unknown,
    tls = false,
    unsent = false,
  ): void {
    if (unsent) return this.#requeueUnsent();
    this.#report(status, detail, cause, tls);
    this.#reset(status, detail, cause, tls);
  }

  /**
   * Drops a socket that can no longer be trusted: the requests written to
   * it fail, and those not yet written go on a new one.
   */
  #replace(status: Status, detail: string): void {
    this.#fail(status, detail);
    if (this.#queued.length) this.#schedule();
  }

  /** Tells the owner of a failure that counts against the server. */
  #report(status: Status, detail: string, cause?: unknown, tls = false): void {
    if (this.#closed || !consequence(status).serverFailure) return;
    this.#options.onFailure?.(failureAt(this.server, status, detail, undefined, cause, tls));
  }

  /**
   * Drops the socket whose write never left: every request still waiting
   * on it was in that write or behind it, so each goes back to the queue.
   */
  #requeueUnsent(): void {
    if (this.#hello?.state === SENT) this.#hello.state = DONE;
    const unsent = this.#inflight.drain().filter((p) => p.state === SENT);
    this.#dropSocket();
    for (const p of unsent) p.state = QUEUED;
    this.#queued = [...unsent, ...this.#queued];
  }

  /** Closes the socket and fails every request written to it. */
  #reset(status: Status, detail: string, cause?: unknown, tls = false): void {
    const inflight = this.#inflight.drain();
    this.#dropSocket();
    for (const p of inflight) {
      this.#settle(p, undefined, failureAt(this.server, status, detail, p.spec, cause, tls));
    }
    this.#checkIdle();
  }

  /**
   * Forgets the socket and what was half read from it, and its login if not
   * yet written: after the next socket's own, an ASCII login would be an
   * ordinary set, storing the credentials.
   */
  #dropSocket(): void {
    this.#socket?.close();
    this.#socket = undefined;
    const hello = this.#hello;
    if (hello?.state === QUEUED) {
      this.#queued.splice(this.#queued.indexOf(hello), 1);
      hello.state = DONE;
    }
    this.#greeting = undefined;
    this.#hello = undefined;
    this.#parser.reset();
    this.#leftover.clear();
  }

  #failQueued(status: Status, detail: string, cause?: unknown, tls = false): void {
    const queued = this.#queued;
    this.#queued = [];
    for (const p of queued) {
      this.#settle(p, undefined, failureAt(this.server, status, detail, p.spec, cause, tls));
    }
    this.#checkIdle();
  }
}
