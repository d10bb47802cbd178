import type { Diagnosis } from '../../razer/diagnose.js';
import { duration, when } from '../format.js';
import type {
  FixView,
  GoLiveView,
  MitraSide,
  RazerEndpoint,
  RazerFailure,
  ReadingsSide,
  Verdict,
} from '../go-live.js';
import { type Chrome, Layout, Notice } from '../layout.js';

// Every value here is text to hono/jsx, which escapes it: reports carry the supplier's words.

const ago = (at: number, now: number) => `${when(at)} UTC (${duration(now - at)} ago)`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const VERDICT_CLASS: Record<Verdict, string> = {
  confirmed: 'state ok',
  contradicted: 'state bad',
  'not observed': 'state idle',
};

function HowToRun(props: { mitra: MitraSide }) {
  return (
    <div id="conformance-how">
      <p>
        Run <code>gateway conformance</code> against Mitra's development URL: with{' '}
        <code>MITRA_BASE_URL={props.mitra.developmentUrl}</code> and the development account's keys in the
        settings, on a machine whose address Mitra has whitelisted:
      </p>
      <pre>npm run gateway -- conformance --listen 0.0.0.0:8099</pre>
      <p>
        (or, with this gateway running on PostgreSQL, its rate limit shared, and its webhook URL registered at
        Mitra, without <code>--listen</code>: it reads the webhooks the gateway stored. On SQLite, stop the
        gateway first: their rate budgets are not shared there, and the command refuses to run beside it). It
        places the published sandbox scenarios and judges every reading. It saves its report in{' '}
        {props.mitra.conformanceDir} (CONFORMANCE_DIR); this page shows the newest one.
      </p>
    </div>
  );
}

function FixBlock(props: { fix: FixView; title: string }) {
  const { fix } = props;
  return (
    <div class="fix">
      <div>{props.title}</div>
      <pre class={fix.accepted ? 'fix' : 'fix refused'}>{fix.yaml}</pre>
      {!fix.accepted && (
        <div class="flag">
          {fix.refusedBecause.some((r) => r.startsWith('not corroborated'))
            ? 'Not accepted: the evidence does not show what it means (ask Mitra before applying it):'
            : 'The guard rails refuse it (the gateway would not start with it):'}
          <ul class="lines">
            {fix.refusedBecause.map((reason) => (
              <li>{reason}</li>
            ))}
          </ul>
        </div>
      )}
      {fix.caution !== null && <div class="caution">Before applying it: {fix.caution}</div>}
    </div>
  );
}

function MitraReport(props: { mitra: MitraSide; now: number }) {
  const { mitra } = props;
  const r = mitra.report;
  if (!r)
    return (
      <>
        {mitra.error === null && <Notice kind="warn">No conformance report yet.</Notice>}
        <HowToRun mitra={mitra} />
      </>
    );
  return (
    <>
      <dl id="conformance-run">
        <dt>Run</dt>
        <dd>{r.finishedAt === null ? r.finishedText : ago(r.finishedAt, props.now)}</dd>
        <dt>Against</dt>
        <dd>
          {r.url} ({r.host})
        </dd>
        <dt>Result</dt>
        <dd id="conformance-exit">
          exit {r.exit}: {r.exitMeaning}; {mitra.counts.confirmed} confirmed, {mitra.counts.contradicted}{' '}
          contradicted, {mitra.counts['not observed']} not observed
        </dd>
        <dt>Report</dt>
        <dd>{r.file}</dd>
        <dt>Readings</dt>
        <dd>
          {r.readingsFile}
          {r.readingsThen.length === 0 ? ': every default' : `: ${r.readingsThen.join('; ')}`}
        </dd>
      </dl>
      {!r.development && (
        <Notice kind="warn">
          This report was made against {r.url}, not Mitra's development URL ({mitra.developmentUrl}).
        </Notice>
      )}
      {r.stale && (
        <Notice kind="warn">
          The readings in force differ from those this report judged: run gateway conformance again.
        </Notice>
      )}
      {r.problems.length > 0 && (
        <Notice kind={r.exit === 2 ? 'error' : 'warn'}>
          {r.exit === 2 ? 'The run could not complete:' : 'What limited the run:'}
          <ul class="lines" id="conformance-problems">
            {r.problems.map((p) => (
              <li>{p}</li>
            ))}
          </ul>
        </Notice>
      )}
      {mitra.counts.contradicted > 0 && (
        <Notice kind="error">
          {plural(mitra.counts.contradicted, 'reading')} contradicted: put the fix shown in the readings file,
          then run gateway conformance again.
        </Notice>
      )}
      <table id="conformance">
        <thead>
          <tr>
            <th>Setting</th>
            <th>Reading</th>
            <th>Result</th>
            <th>Evidence, fix or why</th>
          </tr>
        </thead>
        <tbody>
          {r.readings.map((reading) => (
            <tr
              data-setting={reading.setting}
              data-verdict={reading.verdict}
              class={reading.verdict === 'contradicted' ? 'bad' : ''}
            >
              <td>
                <code>{reading.setting}</code>
              </td>
              <td>{reading.reading}</td>
              <td>
                <span class={VERDICT_CLASS[reading.verdict]}>{reading.verdict}</span>
              </td>
              <td>
                {reading.evidence.length > 0 && <pre class="evidence">{reading.evidence.join('\n')}</pre>}
                {reading.why !== null && (
                  <div class="why">
                    {reading.verdict === 'contradicted' && reading.fix === null
                      ? `No fix: ${reading.why}`
                      : reading.why}
                  </div>
                )}
                {reading.fix !== null && <FixBlock fix={reading.fix} title="Fix, in the readings file:" />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.combinedFix !== null && r.readings.filter((x) => x.fix !== null).length > 1 && (
        <div id="conformance-combined">
          <FixBlock fix={r.combinedFix} title="Every fix at once, checked together:" />
        </div>
      )}
    </>
  );
}

function ReadingsInForce(props: { readings: ReadingsSide }) {
  const { readings } = props;
  return (
    <>
      <dl>
        <dt>File</dt>
        <dd id="readings-file">{readings.file}</dd>
        <dt>Version</dt>
        <dd>{readings.version}</dd>
      </dl>
      {readings.differences.length === 0 ? (
        <p id="readings-default">Every default: no setting differs from today's readings.</p>
      ) : (
        <table id="readings-differences">
          <thead>
            <tr>
              <th>Setting</th>
              <th>In force</th>
              <th>Default</th>
            </tr>
          </thead>
          <tbody>
            {readings.differences.map((d) => (
              <tr data-setting={d.path}>
                <td>
                  <code>{d.path}</code>
                </td>
                <td>
                  <code>{d.value}</code>
                </td>
                <td class="muted">
                  <code>{d.default}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function FirstVerified(props: { endpoint: RazerEndpoint; now: number }) {
  const e = props.endpoint;
  if (e.firstVerifiedAt === null) return <span class="muted">not seen yet</span>;
  return (
    <>
      {ago(e.firstVerifiedAt, props.now)}: signed content {e.mode}, api-id {e.apiId}
      {e.hexCase !== null && e.hexCase !== 'lower' && (
        <span class="flag"> (hex in {e.hexCase} case: accepted; §1 says lower)</span>
      )}
    </>
  );
}

function DiagnosisText(props: { diagnosis: Diagnosis }) {
  const d = props.diagnosis;
  if (d.outcome === 'skipped') return <span class="muted">skipped: rate bound</span>;
  if (d.outcome === 'unmatched') return <>No other reading verifies it: {d.reason}</>;
  return (
    <>
      Would have verified with {d.findings.length === 1 ? 'this reading' : 'these readings together'}:
      <ul class="lines">
        {d.findings.map((f) => (
          <li data-finding={f.id}>
            <code>{f.id}</code>: {f.text}
          </li>
        ))}
      </ul>
    </>
  );
}

function Failures(props: { failures: RazerFailure[]; skipped: number; unsigned: number; now: number }) {
  return (
    <>
      <p id="razer-skipped" class={props.skipped > 0 ? 'flag' : 'muted'}>
        {props.skipped === 0
          ? 'No diagnosis skipped.'
          : `${plural(props.skipped, 'failed verification')} not diagnosed (skipped: rate bound).`}
      </p>
      <p id="razer-unsigned" class="muted">
        {props.unsigned === 0
          ? 'No request without an X-Razer-Signature header.'
          : `${plural(props.unsigned, 'request')} without an X-Razer-Signature header refused (401), counted only: Internet noise, or a proxy that drops the header if Razer's calls are among them.`}
      </p>
      {props.failures.length === 0 ? (
        <p id="razer-no-failures" class="muted">
          No failed verification since the gateway started.
        </p>
      ) : (
        <table id="razer-failures">
          <thead>
            <tr>
              <th>When</th>
              <th>Request</th>
              <th>api-id</th>
              <th>Diagnosis</th>
            </tr>
          </thead>
          <tbody>
            {props.failures.map((f) => (
              <tr data-endpoint={f.endpoint} data-outcome={f.diagnosis.outcome}>
                <td>{ago(f.at, props.now)}</td>
                <td>
                  {f.method} {f.path}
                </td>
                <td>{f.apiId ?? <span class="muted">unreadable</span>}</td>
                <td>
                  <DiagnosisText diagnosis={f.diagnosis} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function RazerSideView(props: { view: GoLiveView; now: number }) {
  const { razer } = props.view;
  return (
    <>
      <p class="muted">
        Since this gateway process started (each instance keeps its own): the first request of each endpoint
        whose signature verified, and the last requests refused for their signature, with the other reading
        that would have verified them (the last few of each configured api-id, and apart the last of any other
        api-id). A diagnosis is advice: it never accepts a request.
      </p>
      <table id="razer-endpoints">
        <thead>
          <tr>
            <th>Endpoint</th>
            <th>First verified request</th>
            <th>Failed verifications kept</th>
          </tr>
        </thead>
        <tbody>
          {razer.endpoints.map((e) => (
            <tr data-endpoint={e.name} data-seen={e.firstVerifiedAt === null ? 'no' : 'yes'}>
              <td>
                {e.name} <code>{e.path}</code>
              </td>
              <td>
                <FirstVerified endpoint={e} now={props.now} />
              </td>
              <td>
                {e.failures.length === 0
                  ? 'none'
                  : `${e.failures.length} (last ${when(e.failures[0]?.at)} UTC)`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 id="razer-failures-title">Razer: last failed verifications</h2>
      <Failures
        failures={razer.failures}
        skipped={razer.skippedDiagnoses}
        unsigned={razer.unsigned}
        now={props.now}
      />
    </>
  );
}

export function GoLivePage(props: { chrome: Chrome; view: GoLiveView; now: number }) {
  const { view } = props;
  const { mitra, razer } = view;
  return (
    <Layout title="Go live" chrome={props.chrome}>
      <h1>Go live</h1>
      <p class="muted">What has been confirmed of both APIs, what has not been seen yet, and what failed.</p>
      <div class="cards">
        <div class="card" id="summary-mitra">
          Mitra readings
          <b>{mitra.report ? `${mitra.counts.confirmed}/${mitra.report.readings.length}` : '–'}</b>
          {mitra.report
            ? `confirmed; ${mitra.counts.contradicted} contradicted, ${mitra.counts['not observed']} not observed`
            : 'no report yet'}
        </div>
        <div class="card" id="summary-razer">
          Razer endpoints
          <b>{`${razer.verified}/${razer.endpoints.length}`}</b>
          verified; {plural(razer.failures.length, 'failed verification')} kept
        </div>
      </div>
      <h2 id="mitra">Mitra: the last conformance report</h2>
      {mitra.error !== null && (
        <Notice kind="error">The last conformance report cannot be read: {mitra.error}</Notice>
      )}
      <MitraReport mitra={mitra} now={props.now} />
      <h2 id="readings">Readings in force</h2>
      <ReadingsInForce readings={view.readings} />
      <h2 id="razer">Razer: requests seen</h2>
      <RazerSideView view={view} now={props.now} />
    </Layout>
  );
}
