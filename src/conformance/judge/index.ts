/**
 * The one entry point of the judgement, in the report's order of the readings; each theme is
 * judged in a module beside this one.
 */
import type { Readings } from '../../readings/settings.js';
import type { Finding, Observations } from '../report.js';
import { READING_IDS } from '../report.js';
import { judgeBalance, judgeMayExist, judgeRefused, judgeTid } from './calls.js';
import { judgeEnvelope, judgeForms, judgeSignature } from './catalogue.js';
import { judgeReason, judgeVoucher } from './fields.js';
import { readingText } from './findings.js';
import { judgeRefund } from './refund.js';
import { judgeFailed, judgeProcessing, judgeSuccess } from './statuses.js';
import { judgeWebhook } from './webhook.js';

export { isBalanceNotFound } from './calls.js';
export { catalogueBlocked } from './catalogue.js';
export { foundIn } from './fields.js';
export { statusRuns } from './orders.js';
export { webhookReading } from './webhook.js';

/**
 * The judgement: each reading, from what the run observed, is confirmed, contradicted (with the
 * evidence, and the fix when one can be written) or not observed (with why). Pure: the same
 * observations and readings always give the same findings.
 */
export function judge(obs: Observations, readings: Readings): Finding[] {
  const findings: Finding[] = [
    judgeSignature(obs, readings),
    judgeEnvelope(obs, readings),
    judgeForms(obs, readings),
    judgeProcessing(obs, readings),
    judgeSuccess(obs, readings),
    judgeFailed(obs, readings),
    judgeVoucher(obs, readings),
    judgeReason(obs, readings),
    judgeRefund(obs, readings),
    judgeWebhook(obs, readings),
    judgeBalance(obs, readings),
    judgeTid(obs, readings),
    judgeMayExist(obs, readings),
    judgeRefused(obs, readings),
    {
      id: 'razer.signed_content',
      verdict: 'not-observed',
      reading: readingText('razer.signed_content', readings),
      evidence: [],
      why: "Razer side, see the Go live page's diagnostics",
      fix: null,
    },
  ];
  return READING_IDS.flatMap((id) => findings.filter((f) => f.id === id));
}
