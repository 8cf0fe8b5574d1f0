/**
 * One pipelined connection to one server: a write queue flushed once per
 * tick, an in-flight queue matched with replies in order, a deadline on every
 * request, and reconnection on demand.
 *
 * @module
 */
import { consequence, errorFor, type MemcachedError, TlsError } from "../errors.ts";
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
import { type ConnectionOptions, type Hello, type RequestSpec, strangerIn } from "./request.ts";

export type { ConnectionOptions, Hello, RequestSpec };

const QUEUED = 0;
const SENT = 1;
const DONE = 2;

interface Pending {
  spec: RequestSpec;
  state: typeof QUEUED | typeof SENT | typeof DONE;
  resolve(reply: Reply): void;
  reject(err: unknown): void;
  /** When the request times out (ms since the epoch); Infinity for never. */
  deadline: number;
  onAbort?: () => void;
  /** Whether the caller gave up on it after it was written. */
  abandoned?: boolean;
}

/**
 * A pipelined connection. Requests are written without waiting for earlier
 * replies; everything queued in one tick goes out in one write.
 *
 * An abandoned request (timed out or aborted) keeps its place in the
 * in-flight queue so that its reply, when it comes, is read and dropped: no
 * later request can receive it. When requests are outstanding and no byte
 * arrives for the whole `stallTimeout`, the server is not answering: the
 * socket is closed and replaced, and the failure is reported. A reply that
 * cannot be trusted (garbled, or for another request) resets the socket at
 * once; requests not yet written wait for the next one.
 *
 * While nothing is queued or in flight, neither the socket nor a timer
 * keeps the process alive.
 */
export class Connection {
  /** The server's name in errors: `host:port` or the socket path. */
  readonly server: string;
  readonly #address: Address;
  readonly #options: ConnectionOptions;
  readonly #parser: TextReplyParser | BinaryReplyParser;
  readonly #writer = new ByteWriter();
  #queued: Pending[] = [];
  #inflight: Pending[] = [];
  #head = 0;
  #tail = new Uint8Array(0);
  #tailLength = 0;
  #socket?: Socket;
  #connecting = false;
  #connectTimer?: ReturnType<typeof setTimeout>;
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
  readonly #abandonedKeys = new Map<string, number>();
  /** The socket whose hello is not answered yet: nothing else is written to it until then. */
  #greeting?: Socket;
  /** That hello's request. */
  #hello?: Pending;

  /**
   * When its pool saw it go idle (milliseconds since the epoch), or 0 while
   * it is in use: kept here by the pool, which closes connections idle for
   * too long.
   */
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

  /**
   * How many requests are queued or in flight, abandoned ones included: they
   * still hold their place in the pipeline until their replies arrive.
   */
  get load(): number {
    return this.#queued.length + this.#inflight.length - this.#head;
  }

  /**
   * Whether a request for `key` was given up on after it was written and its
   * reply has not come yet. Until it has, later requests for the key must go
   * to this connection: on another one they could overtake it, and a write
   * the caller saw fail could land after one it saw succeed.
   */
  holds(key: string): boolean {
    return this.#abandonedKeys.size > 0 && this.#abandonedKeys.has(key);
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
      return Promise.reject(this.#error(spec, Status.CONNECTION_FAILURE, "client is closed"));
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
    clearTimeout(this.#connectTimer);
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
    const pending = [...this.#queued, ...this.#inflight.slice(this.#head)];
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
    return this.#socket && this.#head < this.#inflight.length
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
    if (this.#head === this.#inflight.length) this.#quietSince = Date.now();
    let sent = 0;
    const queued = this.#queued;
    for (let i = 0; i < queued.length; i++) {
      const p = queued[i];
      sent++;
      if (p.state !== QUEUED) continue;
      p.spec.encode(w);
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
    if (this.#connecting) return;
    this.#connecting = true;
    let timedOut = false;
    const timer = this.#connectTimer = setTimeout(() => {
      timedOut = true;
      this.#connecting = false;
      const why = `could not connect within ${this.#options.connectTimeout} ms`;
      this.#report(Status.TIMEOUT, why);
      this.#failQueued(Status.TIMEOUT, why);
    }, this.#options.connectTimeout);
    unrefTimer(timer);
    let socket: Socket | undefined;
    const address = this.#address;
    const tls = address.kind === "tcp" && (address.tls || this.#options.tls)
      ? this.#options.tls ?? {}
      : undefined;
    this.#options.connector(address, {
      data: (chunk) => {
        if (socket === this.#socket) this.#onData(chunk);
      },
      closed: (failure) => {
        if (socket !== this.#socket) return;
        const head = this.#inflight[this.#head];
        const refused = !failure && head?.spec.refusable && this.#tailLength === 0 &&
          this.#parser.idle;
        if (refused) {
          this.#shift();
          this.#settle(
            head,
            undefined,
            this.#error(
              head.spec,
              Status.NOT_SUPPORTED,
              "the server closed the connection instead of answering (a proxy that does not support this command?)",
            ),
          );
        }
        const status = failure?.status ?? Status.CONNECTION_FAILURE;
        const why = failure?.message ?? "connection closed by the server";
        // A proxy refusing a command closes a healthy connection, and a server
        // may close an idle one: neither is a failure. A reconnect that
        // fails is.
        if (refused || this.#head === this.#inflight.length) this.#reset(status, why);
        else this.#fail(status, why, failure?.cause, failure?.tls, failure?.unsent);
        if (this.#queued.length) this.#schedule();
      },
    }, tls ? { ...this.#options.socket, tls } : this.#options.socket).then(
      (opened) => {
        clearTimeout(timer);
        if (timedOut || this.#closed) return opened.close();
        this.#connecting = false;
        socket = opened;
        this.#socket = opened;
        this.#answered = false;
        opened.setRef?.(this.#held);
        if (this.#options.hello) this.#greet(this.#options.hello, opened);
        this.#schedule();
      },
      (failure: SocketFailure) => {
        clearTimeout(timer);
        if (timedOut) return;
        this.#connecting = false;
        this.#report(failure.status, failure.message, failure.cause, failure.tls);
        this.#failQueued(failure.status, failure.message, failure.cause, failure.tls);
      },
    );
  }

  /** Puts `hello` in front of everything queued for the new `socket`. */
  #greet(hello: Hello, socket: Socket): void {
    const timeout = this.#options.stallTimeout;
    const spec: RequestSpec = {
      encode: hello.encode,
      expect: hello.expect,
      operation: hello.operation,
      timeout,
    };
    const answered = () => {
      if (this.#greeting !== socket) return;
      this.#greeting = undefined;
      this.#hello = undefined;
      this.#schedule();
    };
    const deadline = Number.isFinite(timeout) ? Date.now() + timeout : Infinity;
    if (deadline < this.#timerAt) this.#arm(deadline);
    const greeting: Pending = {
      spec,
      state: QUEUED,
      deadline,
      resolve: (reply) => {
        const failure = hello.check(reply);
        if (failure && socket === this.#socket) {
          this.#greeting = undefined;
          this.#hello = undefined;
          this.#failQueued(failure.status, failure.detail);
          return this.#fail(failure.status, failure.detail);
        }
        answered();
      },
      reject: answered,
    };
    this.#hello = greeting;
    this.#greeting = socket;
    this.#queued.unshift(greeting);
  }

  #onData(chunk: Uint8Array): void {
    this.#quietSince = Date.now();
    let buf = chunk;
    let end = chunk.length;
    if (this.#tailLength > 0) {
      this.#keep(chunk, 0, chunk.length);
      buf = this.#tail;
      end = this.#tailLength;
    }
    let start = 0;
    while (start < end) {
      const p = this.#inflight[this.#head];
      if (!p) {
        return this.#reset(Status.PROTOCOL_ERROR, "the server sent bytes no request asked for");
      }
      const reply = this.#parser.parse(p.spec.expect, buf, start, end, p.spec.keys);
      start += this.#parser.used;
      if (!reply) break;
      this.#shift();
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
        this.#settle(p, undefined, this.#error(p.spec, Status.PROTOCOL_ERROR, reply.line));
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
    if (buf === this.#tail) {
      this.#tail.copyWithin(0, start, end);
      this.#tailLength = end - start;
    } else if (start < end) {
      this.#keep(buf, start, end);
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.load !== 0) return;
    if (this.#held) this.#hold(false);
    if (!this.#closed) this.#options.onIdle?.();
  }

  /** Appends `bytes[from, to)` to the unparsed tail. */
  #keep(bytes: Uint8Array, from: number, to: number): void {
    const need = this.#tailLength + to - from;
    if (need > this.#tail.length) {
      const grown = new Uint8Array(Math.max(need, this.#tail.length * 2, 4096));
      grown.set(this.#tail.subarray(0, this.#tailLength));
      this.#tail = grown;
    }
    this.#tail.set(bytes.subarray(from, to), this.#tailLength);
    this.#tailLength = need;
  }

  #shift(): void {
    const key = this.#inflight[this.#head].spec.key;
    if (this.#inflight[this.#head].abandoned && key !== undefined) {
      const count = this.#abandonedKeys.get(key)! - 1;
      if (count > 0) this.#abandonedKeys.set(key, count);
      else this.#abandonedKeys.delete(key);
    }
    this.#head++;
    if (this.#head === this.#inflight.length) {
      this.#inflight = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#inflight = this.#inflight.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Fails a request past its deadline like an aborted one: it keeps its
   * place until its reply comes, so that it fails nothing behind it. Whether
   * the server is stuck is the connection's to tell, from its silence.
   */
  #expire(p: Pending): void {
    const ms = p.spec.timeout;
    const what = p.state === QUEUED && !this.#socket ? "no connection" : "no reply";
    this.#abandon(p, this.#error(p.spec, Status.TIMEOUT, `${what} within ${ms} ms`));
  }

  /** Rejects a request the caller gave up on, remembering its key while its reply is due. */
  #abandon(p: Pending, err: unknown): void {
    if (p.state === SENT && p.spec.key !== undefined) {
      p.abandoned = true;
      this.#abandonedKeys.set(p.spec.key, (this.#abandonedKeys.get(p.spec.key) ?? 0) + 1);
    }
    this.#settle(p, undefined, err);
  }

  /**
   * Ends a request once: with its reply, or with an error. A sent request
   * stays in the in-flight queue, so that its reply is still read, and
   * dropped, when it arrives.
   */
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
    const details = { server: this.server, ...(cause === undefined ? {} : { cause }) };
    this.#options.onFailure?.(
      tls ? new TlsError(detail, { ...details, status }) : errorFor(status, detail, details),
    );
  }

  /**
   * Drops the socket whose write never left: every request still waiting
   * on it was in that write or behind it, so each goes back to the queue.
   */
  #requeueUnsent(): void {
    // The login belonged to that socket: the next one gets its own.
    const hello = this.#hello;
    if (hello) {
      hello.state = DONE;
      const at = this.#queued.indexOf(hello);
      if (at >= 0) this.#queued.splice(at, 1);
    }
    const unsent = this.#inflight.slice(this.#head).filter((p) => p.state === SENT);
    this.#socket?.close();
    this.#socket = undefined;
    this.#parser.reset();
    this.#tailLength = 0;
    this.#abandonedKeys.clear();
    this.#inflight = [];
    this.#head = 0;
    for (const p of unsent) p.state = QUEUED;
    this.#queued = [...unsent, ...this.#queued];
    this.#greeting = undefined;
    this.#hello = undefined;
  }

  /** Closes the socket and fails every request written to it. */
  #reset(status: Status, detail: string, cause?: unknown, tls = false): void {
    this.#socket?.close();
    this.#socket = undefined;
    // A login not yet written belongs to the socket that is gone; written
    // on the next socket after that one's own login, an ASCII login would be
    // an ordinary set, storing the credentials.
    const hello = this.#hello;
    if (hello?.state === QUEUED) {
      this.#queued.splice(this.#queued.indexOf(hello), 1);
      hello.state = DONE;
    }
    this.#greeting = undefined;
    this.#hello = undefined;
    this.#parser.reset();
    this.#tailLength = 0;
    this.#abandonedKeys.clear();
    const inflight = this.#inflight.slice(this.#head);
    this.#inflight = [];
    this.#head = 0;
    for (const p of inflight) {
      this.#settle(p, undefined, this.#error(p.spec, status, detail, cause, tls));
    }
    this.#checkIdle();
  }

  #failQueued(status: Status, detail: string, cause?: unknown, tls = false): void {
    const queued = this.#queued;
    this.#queued = [];
    for (const p of queued) {
      this.#settle(p, undefined, this.#error(p.spec, status, detail, cause, tls));
    }
    this.#checkIdle();
  }

  #error(
    spec: RequestSpec,
    status: Status,
    detail: string,
    cause?: unknown,
    tls = false,
  ): MemcachedError {
    const details = {
      operation: spec.operation,
      key: spec.key,
      server: this.server,
      ...(cause === undefined ? {} : { cause }),
    };
    return tls ? new TlsError(detail, { ...details, status }) : errorFor(status, detail, details);
  }
}
