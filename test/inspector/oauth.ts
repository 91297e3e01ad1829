/**
 * The Inspector CLI's own OAuth flow against a gateway whose HTTP front is an OAuth resource server
 * (`http.auth`), with no browser: the issuer is an in-process oidc-provider (test/helpers/oidc-issuer.ts),
 * the CLI runs with `--client-id inspector` (a public client registered there) and a `--callback-url` on
 * a free loopback port. The CLI meets the gateway's 401, discovers the issuer through the RFC 9728
 * metadata, prints `Please navigate to: <authorization URL>` on stderr and waits on its callback; this
 * module reads that line, logs in and consents through the provider's pages with fetch (what a person
 * does in the browser), and requests the final redirect, the CLI's callback with the code. The CLI then
 * exchanges the code (PKCE) and sends its request with the token.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { startIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/ports.js';

export { freePort };

export interface OAuthSetup {
  issuer: TestIssuer;
  /** The gateway's canonical URL, also `http.auth.audience`: the CLI checks the metadata's resource. */
  url: string;
  port: number;
  callbackUrl: string;
  /** The `http:` block of gateway.yaml. */
  yaml: string[];
}

export async function oauthSetup(): Promise<OAuthSetup> {
  const port = await freePort();
  const callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
  const issuer = await startIssuer({ inspectorRedirects: [callbackUrl] });
  const url = `http://127.0.0.1:${port}/mcp`;
  const yaml = [
    'http:',
    '  auth:',
    `    issuer: ${issuer.issuer}`,
    `    audience: ${url}`,
    '    required_scopes: [mcp]',
  ];
  return { issuer, url, port, callbackUrl, yaml };
}

export interface OAuthOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How many logins this invocation asked for (0 when it used the token stored by an earlier run). */
  logins: number;
}

/**
 * Runs the CLI and completes each login it asks for as `user`. Without a TTY the CLI refuses an
 * interactive login ("Interactive OAuth requires a TTY on stdin or stderr (or MCP_AUTO_OPEN_ENABLED=true)");
 * `MCP_AUTO_OPEN_ENABLED=true` lets it go on, and it then opens the URL with the `open` package, whose
 * xdg-open honours `BROWSER`: `BROWSER=true` makes that "browser" a no-op, this runner being the browser.
 */
export function runWithLogin(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  issuer: TestIssuer,
  user: string,
  timeoutMs: number,
): Promise<OAuthOutcome> {
  return new Promise((res, rej) => {
    const child: ChildProcess = spawn(command, args, {
      cwd,
      env: {
        ...process.env,
        ...env,
        MCP_AUTO_OPEN_ENABLED: 'true',
        BROWSER: 'true',
        MCP_INSPECTOR_SECRET_STORE: 'file',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let logins = 0;
    let scanned = 0;
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      const re = /Please navigate to: (\S+)/g;
      re.lastIndex = scanned;
      for (let m = re.exec(stderr); m; m = re.exec(stderr)) {
        scanned = re.lastIndex;
        logins++;
        const authorizationUrl = m[1] ?? '';
        issuer
          .completeLogin(authorizationUrl, user)
          // The provider's last redirect: the CLI's loopback callback with the code.
          .then((callback) => fetch(callback))
          .then(async (answer) => {
            if (!answer.ok) stderr += `\n(callback answered ${answer.status}: ${await answer.text()})`;
          })
          .catch((err: unknown) => {
            stderr += `\n(headless login failed: ${err instanceof Error ? err.message : String(err)})`;
          });
      }
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', rej);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, logins });
    });
  });
}
