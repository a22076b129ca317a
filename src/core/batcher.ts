/**
 * Batcher groups calls made while a flush is in flight into the next flush, so many
 * concurrent callers share one database round trip (group commit). Each call resolves
 * with its own result only after the flush that carried it has finished. One flush runs
 * at a time; a failed flush rejects the calls it carried.
 */
export class Batcher<Item, Result> {
  private pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    /** Writes a batch; must return one result per item, in order. */
    private readonly flush: (items: Item[]) => Promise<Result[]>,
    /** Largest batch one flush carries. */
    private readonly maxBatch: number,
  ) {}

  /** add queues an item for the next flush and resolves with its result. */
  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /** idle resolves once every item added so far has been flushed. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    // Let callers in the same tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const results = await this.flush(batch.map((entry) => entry.item));
        for (const [index, entry] of batch.entries()) entry.resolve(results[index] as Result);
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.flushing = null;
  }
}
