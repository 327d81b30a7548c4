/**
 * Users, API tokens, web sessions and CSRF crumbs of the simulated Jenkins.
 *
 * The default crumb issuer binds a crumb to the user and the web session, so a password-authenticated POST must
 * carry both the crumb and the session cookie handed out with it. Requests authenticated with an API token are
 * exempt from the crumb check (ApiCrumbExclusion).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A Jenkins user account as the lead seeds it. */
export interface JenkinsUser {
  readonly id: string;
  readonly fullName?: string;
  readonly password: string;
  readonly apiToken: string;
}

/** Who a request is, and how it proved it. */
export interface Principal {
  readonly userId: string;
  readonly fullName: string;
  readonly via: 'password' | 'api-token';
}

/** The outcome of checking an `Authorization` header. */
export type Authentication =
  | { readonly kind: 'user'; readonly principal: Principal }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'invalid' };

export interface IssuedCrumb {
  readonly crumb: string;
  readonly sessionId: string;
  /** True when the session was created for this crumb and the cookie must be sent. */
  readonly newSession: boolean;
}

export const CRUMB_FIELD = 'Jenkins-Crumb';

export class JenkinsSecurity {
  private readonly users = new Map<string, JenkinsUser>();
  private readonly sessions = new Map<string, string>();
  private readonly salt = randomBytes(16);
  /** `JSESSIONID.<instance id>`, the cookie name Jenkins' Jetty uses. */
  readonly sessionCookieName = `JSESSIONID.${randomBytes(4).toString('hex')}`;

  addUser(user: JenkinsUser): void {
    this.users.set(user.id, user);
  }

  user(id: string): JenkinsUser | undefined {
    return this.users.get(id);
  }

  /** Checks HTTP Basic credentials; the secret may be the password or the API token. */
  authenticate(authorization: string | undefined): Authentication {
    if (!authorization) return { kind: 'anonymous' };
    const m = /^Basic\s+(\S+)\s*$/i.exec(authorization);
    if (!m?.[1]) return { kind: 'invalid' };
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'invalid' };
    const user = this.users.get(decoded.slice(0, colon));
    const secret = decoded.slice(colon + 1);
    if (!user) return { kind: 'invalid' };
    const fullName = user.fullName ?? user.id;
    if (equal(secret, user.apiToken))
      return { kind: 'user', principal: { userId: user.id, fullName, via: 'api-token' } };
    if (equal(secret, user.password))
      return { kind: 'user', principal: { userId: user.id, fullName, via: 'password' } };
    return { kind: 'invalid' };
  }

  /** The session id named by the request's cookie header, when it belongs to `userId`. */
  sessionOf(cookieHeader: string | undefined, userId: string): string | undefined {
    for (const part of (cookieHeader ?? '').split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name === this.sessionCookieName && value && this.sessions.get(value) === userId) return value;
    }
    return undefined;
  }

  /** Issues a crumb for the user's current session, creating the session when the request has none. */
  issueCrumb(userId: string, cookieHeader: string | undefined): IssuedCrumb {
    const existing = this.sessionOf(cookieHeader, userId);
    const sessionId = existing ?? `node0${randomBytes(12).toString('hex')}.node0`;
    if (!existing) this.sessions.set(sessionId, userId);
    return { crumb: this.crumbFor(userId, sessionId), sessionId, newSession: !existing };
  }

  /** True when `crumb` was issued to `userId` for the session in the cookie header. */
  validCrumb(userId: string, crumb: string | undefined, cookieHeader: string | undefined): boolean {
    if (!crumb) return false;
    const sessionId = this.sessionOf(cookieHeader, userId);
    return sessionId !== undefined && equal(crumb, this.crumbFor(userId, sessionId));
  }

  private crumbFor(userId: string, sessionId: string): string {
    return createHmac('sha256', this.salt).update(`${userId};${sessionId}`).digest('hex');
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
