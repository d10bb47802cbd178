/**
 * What a history name says in words: delivered, failed, refunded, or that it did not happen.
 * The corroboration a judge needs before it proposes a meaning for a status number or a refund
 * name: the polling's guess that an order ended is never enough on its own.
 */
import { NEGATING_WORDS } from '../../readings/settings.js';

/** The words of a name, lower case: `Transaksi Gagal` → transaksi, gagal. */
export const wordsOfName = (name: string): string[] =>
  name
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/** Words of a delivered order's history: success, sukses, berhasil, selesai, completed, done, delivered. */
const SUCCESS_STEMS = ['success', 'succeed', 'sukses'];
const SUCCESS_WORDS = ['berhasil', 'selesai', 'completed', 'complete', 'done', 'delivered', 'terkirim'];

/** Word parts of a failed, cancelled or refunded order's history. */
const FAILURE_PARTS = [
  'fail',
  'gagal',
  'batal',
  'tolak',
  'reject',
  'declin',
  'cancel',
  'error',
  'expire',
  'void',
  'unsuccess',
];

/** Word parts of a refund: refund, dikembalikan, kembali, return, reversal, reimburse. */
const REFUND_PARTS = ['refund', 'kembali', 'return', 'reversal', 'reimburs'];

/** Words that undo or deny what a name says: the readings' own, with the undoing ones. */
const NEGATING: readonly string[] = [
  ...NEGATING_WORDS,
  'cancelled',
  'canceled',
  'reversed',
  'batal',
  'dibatalkan',
];

const isSuccessWord = (w: string) => SUCCESS_STEMS.some((s) => w.startsWith(s)) || SUCCESS_WORDS.includes(w);

/** The name has a word that denies or undoes (not, tidak, belum, gagal, pending, cancelled…). */
export const negated = (name: string): boolean => wordsOfName(name).some((w) => NEGATING.includes(w));

/** The name says delivered: a success word, and nothing that denies it ("Tidak Berhasil" does not). */
export const namesSuccess = (name: string): boolean =>
  wordsOfName(name).some(isSuccessWord) && !negated(name);

/** The name has a success word at all, denied or not. */
export const hasSuccessWord = (name: string): boolean => wordsOfName(name).some(isSuccessWord);

/** The name says refunded, in any words (refund, dikembalikan, return…). */
export const hasRefundWord = (name: string): boolean =>
  wordsOfName(name).some((w) => REFUND_PARTS.some((p) => w.includes(p)));

/** The name says failed, cancelled, rejected or refunded, or denies a success ("Tidak Berhasil"). */
export const namesFailure = (name: string): boolean =>
  hasRefundWord(name) ||
  wordsOfName(name).some((w) => FAILURE_PARTS.some((p) => w.includes(p))) ||
  (hasSuccessWord(name) && negated(name));
