/**
 * The web console's page: sign-in, then four views — Backends, Tools, Pipelines, Runs — chosen by
 * the URL's hash. Everything shown comes from the API as data and is rendered as text (Preact
 * escapes it); the one HTML it inserts is Mermaid's SVG, drawn with securityLevel 'strict'.
 */
import './style.css';
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { BackendView, RunView, SignInView, WhoAmI } from '../console/types.js';
import { ApiError, followEvents, get, saveToken, whenRefused } from './api.js';
import { BackendsPage } from './backends.js';
import { finishSignIn, startSignIn } from './oauth.js';
import { PipelinesPage } from './pipelines.js';
import { RunsPage } from './runs.js';
import { ToolsPage } from './tools.js';

type Route = { page: 'backends' | 'tools' | 'pipelines' | 'runs'; id?: string };

function parseHash(hash: string): Route {
  const [page, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  if (page === 'tools' || page === 'pipelines' || page === 'runs')
    return { page, ...(id !== undefined ? { id } : {}) };
  return { page: 'backends' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function Login({ onIn, refused }: { onIn: (who: WhoAmI) => void; refused: string | undefined }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(refused);
  useEffect(() => setError(refused), [refused]);
  const [busy, setBusy] = useState(false);
  const [signIn, setSignIn] = useState<SignInView>({});
  useEffect(() => {
    get<SignInView>('sign-in').then(setSignIn, () => {});
  }, []);
  const viaIssuer = async () => {
    const client = signIn.oauth;
    if (!client) return;
    setBusy(true);
    try {
      await startSignIn(client);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    saveToken(token.trim());
    try {
      onIn(await get<WhoAmI>('whoami'));
    } catch (err) {
      saveToken(null);
      setError(refusal(err, 'The gateway refused this token.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} id="login-form">
        <h1>mcp-gateway</h1>
        {signIn.oauth ? (
          <>
            <button type="button" id="oauth-sign-in" onClick={viaIssuer} disabled={busy}>
              Sign in with {hostOf(signIn.oauth.issuer)}
            </button>
            <p class="or">or with a token:</p>
          </>
        ) : null}
        {signIn.problem ? <p class="error">{signIn.problem}</p> : null}
        <p>
          Sign in with the gateway's bearer token (http.token or MCP_GATEWAY_TOKEN). It is kept for this tab
          only.
        </p>
        <label>
          Token
          <input
            id="token"
            type="password"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p class="error" role="alert" id="login-error">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}

/** What to tell the person about a refused sign-in: 401 is the credential, 403 is what it may not do. */
function refusal(err: unknown, unauthorized: string): string {
  if (err instanceof ApiError && err.status === 401) return unauthorized;
  if (err instanceof ApiError && err.status === 403) return `Refused (403): ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function App() {
  const [who, setWho] = useState<WhoAmI | null | undefined>(undefined);
  const [refused, setRefused] = useState<string | undefined>(undefined);
  const route = useRoute();
  const signedIn = useRef(false);
  signedIn.current = Boolean(who);
  const [backends, setBackends] = useState<BackendView[]>([]);
  const [runs, setRuns] = useState<RunView[]>([]);
  const [live, setLive] = useState(false);
  const [toolsVersion, setToolsVersion] = useState(0);
  const [pipelinesVersion, setPipelinesVersion] = useState(0);

  useEffect(() => {
    // A refused token later on (expired, revoked) sends the person back to sign in.
    whenRefused((message) => {
      // On the sign-in form the form says why itself; this is for a sign-in that stopped working.
      if (!signedIn.current) return;
      setRefused(message);
      setWho(null);
    });
    void (async () => {
      const failed = await finishSignIn();
      if (failed) {
        setRefused(failed);
        return setWho(null);
      }
      try {
        setWho(await get<WhoAmI>('whoami'));
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) {
          saveToken(null);
          setRefused(refusal(err, ''));
        }
        setWho(null);
      }
    })();
  }, []);

  const onRun = useCallback((run: RunView) => {
    setRuns((all) => {
      const i = all.findIndex((r) => r.id === run.id);
      if (i === -1) return [run, ...all];
      const next = [...all];
      next[i] = run;
      return next;
    });
  }, []);

  useEffect(() => {
    if (!who) return;
    const stop = new AbortController();
    get<{ backends: BackendView[] }>('backends').then(
      (b) => setBackends(b.backends),
      () => {},
    );
    get<{ runs: RunView[] }>('runs').then(
      (r) => setRuns(r.runs),
      () => {},
    );
    void followEvents(
      (event) => {
        if (event.type === 'backends') setBackends(event.backends);
        else if (event.type === 'run') onRun(event.run);
        else if (event.type === 'tools') setToolsVersion((v) => v + 1);
        else if (event.type === 'pipelines') setPipelinesVersion((v) => v + 1);
      },
      (up) => {
        setLive(up);
        // Whatever happened while the stream was down.
        if (up)
          get<{ backends: BackendView[] }>('backends').then(
            (b) => setBackends(b.backends),
            () => {},
          );
      },
      stop.signal,
    );
    return () => stop.abort();
  }, [who, onRun]);

  if (who === undefined) return <p class="loading">Loading…</p>;
  if (who === null) return <Login onIn={setWho} refused={refused} />;
  const tab = (page: Route['page'], label: string) => (
    <a href={`#/${page}`} class={route.page === page ? 'active' : ''} data-tab={page}>
      {label}
    </a>
  );
  return (
    <div class="shell">
      <header>
        <strong>mcp-gateway</strong>
        <nav class="tabs">
          {tab('backends', 'Backends')}
          {tab('tools', 'Tools')}
          {tab('pipelines', 'Pipelines')}
          {tab('runs', 'Runs')}
        </nav>
        <span class={`live ${live ? 'on' : 'off'}`} title="Live updates">
          {live ? '● live' : '○ reconnecting'}
        </span>
        <span class="who">{who.caller}</span>
        {who.auth !== 'none' ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              saveToken(null);
              setWho(null);
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <main>
        {route.page === 'backends' ? <BackendsPage backends={backends} /> : null}
        {route.page === 'tools' ? <ToolsPage selected={route.id} version={toolsVersion} /> : null}
        {route.page === 'pipelines' ? <PipelinesPage selected={route.id} version={pipelinesVersion} /> : null}
        {route.page === 'runs' ? <RunsPage runs={runs} selected={route.id} /> : null}
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
