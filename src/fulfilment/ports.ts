/** What the Razer side needs from the fulfilment engine. */
export interface Fulfilment {
  /**
   * Sends the order of a QUEUED transaction (exactly once, whatever happens) and resolves
   * when the transaction is final or `waitMs` have passed, whichever comes first. The
   * caller then answers from the recorded state.
   */
  fulfil(transactionNumber: string, waitMs: number): Promise<void>;
}
