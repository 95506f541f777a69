import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { type Logger } from '@orderflow/common/observability';
import { CLIENT_ADDRESS_HEADER } from '@orderflow/common/server';
import { SCOPES } from '@orderflow/contracts';
import { readClientCredentials, readFormParams } from '../domain/client-auth.ts';
import { addressKey } from '../domain/login-throttle.ts';
import { OAuthError, invalidClient, invalidRequest, isOAuthError } from '../domain/oauth-error.ts';
import { grantScopes, parseScope } from '../domain/scopes.ts';
import { ClientThrottledError, type ClientService } from '../service/client-service.ts';
import { isHashQueueFull } from '../service/passwords.ts';
import type { SigningKeyStore } from '../service/signing-keys.ts';
import type { TokenService } from '../service/token-service.ts';

/**
 * The OAuth2 endpoints. They live behind the auth service's /internal
 * routes, so only the gateway (with its service token) reaches them; the
 * gateway serves them on its public origin:
 *
 *   POST /oauth/token                          → /internal/oauth/token
 *   POST /oauth/revoke                         → /internal/oauth/revoke
 *   GET  /.well-known/jwks.json                → /internal/oauth/jwks
 *   GET  /.well-known/oauth-authorization-server → /internal/oauth/metadata
 */
export interface OAuthRoutesDeps {
  clients: ClientService;
  tokens: TokenService;
  keys: SigningKeyStore;
  log: Logger;
  issuer: string;
  accessTokenTtlSeconds: number;
  /** Largest form body. Default 8 KiB: the longest legitimate request is a refresh token and a scope list. */
  maxBodyBytes?: number;
}

/** The scope the gateway's service token must carry to use these routes. */
export const OAUTH_PROXY_SCOPE = 'internal:oauth';

const FORM = 'application/x-www-form-urlencoded';

export function oauthRoutes({
  clients,
  tokens,
  keys,
  log,
  issuer,
  accessTokenTtlSeconds,
  maxBodyBytes = 8 * 1024,
}: OAuthRoutesDeps) {
  const base = issuer.replace(/\/+$/, '');
  const parseForm = express.urlencoded({ extended: false, limit: maxBodyBytes, parameterLimit: 20, type: FORM });

  /** Form bodies only; parser failures become RFC 6749 errors instead of the server's generic ones. */
  const form: RequestHandler = (req, res, next) => {
    if (!req.is(FORM)) return sendError(res, invalidRequest(`Send the parameters as ${FORM}`));
    parseForm(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string };
      if (e.type === 'entity.too.large') return sendError(res, invalidRequest('Request body too large'), 413);
      sendError(res, invalidRequest('Malformed request body'));
    });
  };

  const proxyOnly: RequestHandler = (req, res, next) => {
    if (!req.viewer?.scopes.has(OAUTH_PROXY_SCOPE)) return void res.status(403).json({ error: 'forbidden' });
    next();
  };

  function sendError(res: Response, err: OAuthError, status = err.status) {
    if (err.error === 'invalid_client') res.set('WWW-Authenticate', 'Basic realm="orderflow", charset="UTF-8"');
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).status(status).json(err.body);
  }

  /** A refusal before any work: 429 when throttled, 503 when the hashing queue is full; both with Retry-After. */
  function sendBusy(res: Response, status: 429 | 503, error: string, retryAfter: number, description: string) {
    res
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Retry-After': String(retryAfter) })
      .status(status)
      .json({ error, error_description: description });
  }

  const handle =
    (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    (req, res, next: NextFunction) =>
      fn(req, res).catch((err) => {
        if (isOAuthError(err)) return sendError(res, err);
        if (err instanceof ClientThrottledError)
          return sendBusy(
            res,
            429,
            'rate_limited',
            err.retryAfterSeconds,
            `Too many failed client authentications; retry in ${err.retryAfterSeconds} s`,
          );
        if (isHashQueueFull(err))
          return sendBusy(
            res,
            503,
            'temporarily_unavailable',
            err.retryAfterSeconds,
            `Too many authentications at once; retry in ${err.retryAfterSeconds} s`,
          );
        next(err);
      });

  /** The caller's address as the gateway saw it (CLIENT_ADDRESS_HEADER). */
  const addressOf = (req: Request) => addressKey(req.header(CLIENT_ADDRESS_HEADER));

  const tokenResponse = (res: Response, body: Record<string, unknown>) =>
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);

  function requestedScopes(raw: string | undefined): string[] {
    const scopes = parseScope(raw);
    if (!scopes) throw new OAuthError('invalid_scope', 'The scope parameter is malformed');
    return scopes;
  }

  return (router: Router) => {
    router.post(
      '/oauth/token',
      proxyOnly,
      form,
      handle(async (req, res) => {
        const params = readFormParams(req.body);
        const presented = readClientCredentials(req.header('authorization'), params);
        switch (params.grant_type) {
          case 'client_credentials': {
            if (!presented) throw invalidClient(false);
            const client = await clients.authenticate(presented, addressOf(req));
            const scopes = grantScopes(requestedScopes(params.scope), client.allowedScopes);
            if (!scopes) throw new OAuthError('invalid_scope', 'The requested scope exceeds what this client may have');
            const access = await tokens.issueClientToken(client, scopes);
            log.info({ clientId: client.id, scope: access.scope }, 'client token issued');
            tokenResponse(res, {
              access_token: access.token,
              token_type: 'Bearer',
              expires_in: accessTokenTtlSeconds,
              scope: access.scope,
            });
            return;
          }
          case 'refresh_token': {
            if (!params.refresh_token) throw invalidRequest('refresh_token is required');
            // A public client (the browser storefront) refreshes without a secret; a client that sends one is checked.
            const client = presented ? await clients.authenticate(presented, addressOf(req)) : null;
            const pair = await tokens.refresh(params.refresh_token, {
              clientId: client?.id,
              scopes: requestedScopes(params.scope),
            });
            tokenResponse(res, {
              access_token: pair.accessToken,
              token_type: 'Bearer',
              expires_in: pair.expiresIn,
              refresh_token: pair.refreshToken,
              scope: pair.scope,
            });
            return;
          }
          case undefined:
          case '':
            throw invalidRequest('grant_type is required');
          default:
            throw new OAuthError('unsupported_grant_type', 'Supported grant types: client_credentials, refresh_token');
        }
      }),
    );

    router.post(
      '/oauth/revoke',
      proxyOnly,
      form,
      handle(async (req, res) => {
        const params = readFormParams(req.body);
        if (!params.token) throw invalidRequest('token is required');
        const presented = readClientCredentials(req.header('authorization'), params);
        const client = presented ? await clients.authenticate(presented, addressOf(req)) : null;
        await tokens.revoke(params.token, { clientId: client?.id, hint: params.token_type_hint });
        // RFC 7009 §2.2: 200 whether or not the token was known.
        res.set({ 'Cache-Control': 'no-store' }).status(200).end();
      }),
    );

    router.get(
      '/oauth/jwks',
      proxyOnly,
      handle(async (_req, res) => {
        // Short: verifiers refetch on an unknown kid anyway, and rotation announces itself on NATS.
        res.set('Cache-Control', 'public, max-age=60').json(await keys.jwks());
      }),
    );

    router.get('/oauth/metadata', proxyOnly, (_req, res) => {
      // RFC 8414. No authorization endpoint: customers log in through GraphQL.
      res.set('Cache-Control', 'public, max-age=3600').json({
        issuer: base,
        token_endpoint: `${base}/oauth/token`,
        revocation_endpoint: `${base}/oauth/revoke`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        grant_types_supported: ['client_credentials', 'refresh_token'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
        scopes_supported: [...SCOPES],
        access_token_signing_alg_values_supported: ['RS256'],
      });
    });
  };
}
