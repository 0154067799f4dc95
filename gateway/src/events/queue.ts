/** A one-reader queue: producers push, the reader takes everything queued or waits for the next item. */
export class BatchQueue<T> {
  private items: T[] = [];
  private waiter: ((v: T[] | null) => void) | null = null;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w([item]);
    } else {
      this.items.push(item);
    }
  }

  /**
   * Everything queued, or waits until something arrives. Resolves [] when `timeoutMs` passes first and
   * null once closed.
   */
  take(timeoutMs: number): Promise<T[] | null> {
    if (this.items.length) {
      const out = this.items;
      this.items = [];
      return Promise.resolve(out);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.waiter === done) this.waiter = null;
        resolve([]);
      }, timeoutMs);
      const done = (v: T[] | null): void => {
        clearTimeout(timer);
        resolve(v);
      };
      this.waiter = done;
    });
  }

  close(): void {
    this.closed = true;
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }
}
