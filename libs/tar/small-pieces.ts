/**
 * Joins the small pieces of a tar being written (headers, padding, small
 * bodies) before they are pushed, and pushes large ones as they are: a
 * stream write each would cost more than copying the small ones, and
 * copying the large ones would cost more than the write.
 */
/** The threshold the tar writers here use: pieces below 4 KiB are joined. */
export const SMALL_PIECE_BYTES = 4096;

export interface SmallPieceJoiner {
  /** Takes a piece: held when smaller than the threshold, else pushed after what was held. */
  emit(piece: Buffer): void;
  /** Pushes what is held, as one piece. */
  flush(): void;
}

export function createSmallPieceJoiner(push: (piece: Buffer) => void, minBytes: number): SmallPieceJoiner {
  const small: Buffer[] = [];
  let smallBytes = 0;
  const flush = (): void => {
    if (small.length > 0) push(small.length === 1 ? (small[0] as Buffer) : Buffer.concat(small, smallBytes));
    small.length = 0;
    smallBytes = 0;
  };
  return {
    emit(piece) {
      if (piece.length >= minBytes) {
        flush();
        push(piece);
      } else {
        small.push(piece);
        smallBytes += piece.length;
      }
    },
    flush,
  };
}
