/**
 * Response shapes of the simulated Jenkins: JSON as `application/json;charset=utf-8`, errors as Jetty's HTML error
 * page, and the `X-Jenkins` version header Jenkins puts on every answer.
 */
import type { SandboxResponse } from '../core/http.js';

/** The Jenkins version the sandbox claims to be (an LTS line). */
export const JENKINS_VERSION = '2.479.3';

const COMMON_HEADERS = { 'x-jenkins': JENKINS_VERSION, 'x-content-type-options': 'nosniff' } as const;

export function jenkinsJson(
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): SandboxResponse {
  return {
    status,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json;charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function plainText(
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
): SandboxResponse {
  return { status, headers: { ...COMMON_HEADERS, 'content-type': 'text/plain;charset=utf-8', ...headers }, body };
}

export function html(status: number, body: string, headers: Record<string, string | string[]> = {}): SandboxResponse {
  return { status, headers: { ...COMMON_HEADERS, 'content-type': 'text/html;charset=utf-8', ...headers }, body };
}

/** Without a body, e.g. 201 with `Location`, 204, 302. */
export function bare(status: number, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...COMMON_HEADERS, 'content-length': '0', ...headers }, body: '' };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Server Error',
};

/** Jetty's error page, as Jenkins answers `sendError(status, message)`. */
export function errorPage(
  status: number,
  uri: string,
  message = REASONS[status] ?? 'Error',
  headers: Record<string, string | string[]> = {},
): SandboxResponse {
  const m = escapeHtml(message);
  const body = [
    '<html>',
    '<head>',
    '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    `<title>Error ${status} ${m}</title>`,
    '</head>',
    `<body><h2>HTTP ERROR ${status} ${m}</h2>`,
    '<table>',
    `<tr><th>URI:</th><td>${escapeHtml(uri)}</td></tr>`,
    `<tr><th>STATUS:</th><td>${status}</td></tr>`,
    `<tr><th>MESSAGE:</th><td>${m}</td></tr>`,
    '<tr><th>SERVLET:</th><td>Stapler</td></tr>',
    '</table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return html(status, body, headers);
}

/** 401 with the Basic challenge Jenkins sends to non-browser clients. */
export function unauthorized(uri: string, message: string): SandboxResponse {
  return errorPage(401, uri, message, { 'www-authenticate': 'Basic realm="Jenkins"' });
}

export function noValidCrumb(uri: string): SandboxResponse {
  return errorPage(403, uri, 'No valid crumb was included in the request');
}

/** A minimal HTML page for browser-style GETs of job and build pages. */
export function page(title: string, status = 200): SandboxResponse {
  return html(
    status,
    `<!DOCTYPE html><html><head><title>${escapeHtml(title)} [Jenkins]</title></head><body><h1>${escapeHtml(title)}</h1></body></html>\n`,
  );
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
