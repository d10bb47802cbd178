/**
 * A PostgreSQL database that `gateway move-store` began to fill and did not finish: its data is
 * incomplete, so no gateway starts on it (a half-copied history would answer Razer wrongly).
 */
export class UnfinishedMoveError extends Error {
  override readonly name = 'UnfinishedMoveError';
  constructor(
    readonly source: string,
    readonly startedAt: number,
  ) {
    super(
      `this PostgreSQL database holds an unfinished move from ${source} (started ${new Date(startedAt).toISOString()}): its data is incomplete. Run gateway move-store again (it empties this database and copies afresh); start the gateway once it says the move is done`,
    );
  }
}
