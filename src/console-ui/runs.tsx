/**
 * Recent runs, from any client, and one run as a Gantt-style timeline: a row per step (a child
 * pipeline's steps as rows of their own), the step's span as a bar, and under it each call — one per
 * for_each item and attempt — as a thin bar in its own lane. Redrawn as the run goes.
 */
import { useEffect, useState } from 'preact/hooks';
import type { CallView, RunView, StepView } from '../console/types.js';
import { duration, json } from './nav.js';

function useNow(running: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}

/** Puts calls that overlap in time in different lanes. */
function lanes(calls: CallView[], until: number): CallView[][] {
  const out: { end: number; calls: CallView[] }[] = [];
  for (const call of [...calls].sort((a, b) => a.start - b.start)) {
    const lane = out.find((l) => l.end <= call.start);
    const end = call.end ?? until;
    if (lane) {
      lane.calls.push(call);
      lane.end = end;
    } else out.push({ end, calls: [call] });
  }
  return out.map((l) => l.calls);
}

function ticks(total: number): number[] {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000];
  const step = steps.find((s) => total / s <= 8) ?? 600_000;
  const out: number[] = [];
  for (let t = 0; t <= total; t += step) out.push(t);
  return out;
}

function Row({ step, total, until }: { step: StepView; total: number; until: number }) {
  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / total) * 100))}%`;
  const start = step.start;
  const end = step.end ?? (step.state === 'running' ? until : start);
  const callLanes = lanes(step.calls, until);
  const depth = step.id.split(' > ').length - 1;
  const label = step.id.split(' > ').pop() ?? step.id;
  return (
    <div class={`row ${step.state}`} data-step={step.id} data-state={step.state}>
      <div class="row-label" style={{ paddingLeft: `${depth * 14 + 4}px` }} title={step.target}>
        <span class={`dot ${step.state}`} />
        {label}
        <small> {step.target}</small>
      </div>
      <div class="row-track" style={{ height: `${18 + callLanes.length * 6}px` }}>
        {start !== undefined && end !== undefined ? (
          <div
            class={`bar ${step.state}`}
            style={{ left: pct(start), width: `max(2px, ${pct(end - start)})` }}
            title={`${step.id}: ${step.state}${step.end !== undefined ? ` in ${duration(step.end - start)}` : ''}${step.attempts ? `, ${step.attempts} call(s)` : ''}${step.error ? ` — ${step.error}` : ''}`}
          >
            {step.end !== undefined ? duration(step.end - start) : ''}
          </div>
        ) : step.state === 'skipped' ? (
          <span class="skipped-note">skipped{step.reason ? `: ${step.reason}` : ''}</span>
        ) : null}
        {callLanes.map((lane, i) =>
          lane.map((c) => (
            <div
              key={`${c.item ?? ''}-${c.attempt}-${c.start}`}
              class={`call ${c.error ? 'failed' : c.end === undefined ? 'running' : 'succeeded'}`}
              style={{
                top: `${18 + i * 6}px`,
                left: pct(c.start),
                width: `max(2px, ${pct((c.end ?? until) - c.start)})`,
              }}
              title={`${c.item !== undefined ? `item ${c.item}, ` : ''}attempt ${c.attempt}${c.end !== undefined ? `: ${duration(c.end - c.start)}` : ''}${c.error ? ` — ${c.error}` : ''}`}
            />
          )),
        )}
      </div>
    </div>
  );
}

function Timeline({ run }: { run: RunView }) {
  const now = useNow(run.state === 'running');
  const until = run.state === 'running' ? now - run.startedAt : (run.durationMs ?? 0);
  const total = Math.max(until, 1);
  const axis = ticks(total);
  return (
    <div class="timeline" id="run-timeline" data-state={run.state}>
      <div class="row axis">
        <div class="row-label">step</div>
        <div class="row-track">
          {axis.map((t) => (
            <span key={t} class="tick" style={{ left: `${(t / total) * 100}%` }}>
              {duration(t)}
            </span>
          ))}
        </div>
      </div>
      {run.steps.map((s) => (
        <Row key={s.id} step={s} total={total} until={until} />
      ))}
    </div>
  );
}

export function RunsPage({ runs, selected }: { runs: RunView[]; selected: string | undefined }) {
  const run = runs.find((r) => r.id === selected) ?? (selected === undefined ? runs[0] : undefined);
  return (
    <section class="split">
      <aside>
        <h2>Runs ({runs.length})</h2>
        <ul class="list">
          {runs.map((r) => (
            <li key={r.id}>
              <a href={`#/runs/${r.id}`} class={r === run ? 'active' : ''} data-run={r.id}>
                <span class={`dot ${r.state}`} />
                {r.pipeline}
                <small>
                  {' '}
                  {new Date(r.startedAt).toLocaleTimeString()}
                  {r.durationMs !== undefined ? ` · ${duration(r.durationMs)}` : ' · running'}
                </small>
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <div class="detail">
        {run ? (
          <>
            <h2>
              {run.pipeline}{' '}
              <span class={`badge ${run.state}`} id="run-state">
                {run.state}
              </span>
            </h2>
            <p class="meta">
              started {new Date(run.startedAt).toLocaleString()}
              {run.durationMs !== undefined ? ` · took ${duration(run.durationMs)}` : ''}
            </p>
            {run.error ? (
              <p class="error">
                {run.failedStep ? `step ${run.failedStep}: ` : ''}
                {run.error}
              </p>
            ) : null}
            <Timeline run={run} />
            <details>
              <summary>Inputs</summary>
              <pre>{json(run.inputs)}</pre>
            </details>
            {run.output !== undefined ? (
              <details open>
                <summary>Output</summary>
                <pre id="run-output">{json(run.output)}</pre>
              </details>
            ) : null}
          </>
        ) : (
          <p class="empty">
            {runs.length
              ? 'That run is no longer kept.'
              : 'No runs yet: start one from Pipelines, or from any client.'}
          </p>
        )}
      </div>
    </section>
  );
}
