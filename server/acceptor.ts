// The accept loop of one listening socket, used by the workers (reuseport
// mode) and by the main thread (single mode). Keeps ACCEPT_DEPTH accepts in
// flight so that a burst of connections is taken several per loop turn.
//
// Out of descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM):
// the pending connection stays in the kernel's queue and accepting would
// fail again at once, so the acceptor backs off on an io.timeout instead of
// spinning, and retries early when the owner reports a freed fd. Existing
// connections are not affected: they are served all along.
import type { IO, IOError } from '../io';
import * as limits from './limits';

const RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

export class Acceptor {
  private inFlight = 0;
  private paused = false;
  private stopped = false;
  private backingOff = false;
  private backoffTimer = -1;
  private backoffSeq = 0;
  private warned = false;
  private readonly onAcceptBound = (error: IOError | null, fd: number): void => this.onAccept(error, fd);

  constructor(
    private readonly io: IO,
    readonly fd: number,
    private readonly onSocket: (fd: number) => void,
    private readonly log: (message: string) => void,
  ) {}

  start(): void {
    this.fill();
  }

  /** Stops taking connections (e.g. at --max-connections) until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.fill();
  }

  /** A descriptor was freed: if accepting was backing off, try again now. */
  fdFreed(): void {
    if (!this.backingOff || this.stopped) return;
    this.endBackoff();
    this.fill();
  }

  /** Closes the listener; pending accepts complete with ECANCELED. */
  stop(callback: () => void): void {
    if (this.stopped) {
      queueMicrotask(callback);
      return;
    }
    this.stopped = true;
    this.endBackoff();
    this.io.close(this.fd, () => callback());
  }

  private fill(): void {
    while (!this.stopped && !this.paused && !this.backingOff && this.inFlight < limits.ACCEPT_DEPTH) {
      this.inFlight++;
      this.io.accept(this.fd, this.onAcceptBound);
    }
  }

  private onAccept(error: IOError | null, fd: number): void {
    this.inFlight--;
    if (error !== null) {
      if (this.stopped || error.code === 'ECANCELED') return;
      if (!this.warned) {
        this.warned = true;
        this.log(
          RESOURCE_ERRORS.has(error.code)
            ? `accept: ${error.code} (out of descriptors or memory); backing off, existing connections still served`
            : `accept: ${error.code}; backing off`,
        );
      }
      this.startBackoff();
      return;
    }
    this.warned = false;
    if (this.stopped) {
      this.io.close(fd, () => {});
      return;
    }
    this.onSocket(fd);
    this.fill();
  }

  private startBackoff(): void {
    if (this.backingOff) return;
    this.backingOff = true;
    const seq = ++this.backoffSeq;
    this.backoffTimer = this.io.timeout(limits.ACCEPT_BACKOFF_MS * 1e6, (error) => {
      if (seq !== this.backoffSeq || error !== null) return;
      this.backoffTimer = -1;
      this.backingOff = false;
      this.fill();
    });
  }

  private endBackoff(): void {
    if (!this.backingOff) return;
    this.backingOff = false;
    this.backoffSeq++;
    if (this.backoffTimer >= 0) this.io.cancel(this.backoffTimer);
    this.backoffTimer = -1;
  }
}
