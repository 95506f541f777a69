-- OAuth2: registered clients, the keys that sign access tokens, refresh
-- tokens (hashed, in rotation families) and revoked access tokens.

CREATE TABLE "oauth_clients" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    -- scrypt hash of the client secret, never the secret itself
    "secret_hash" TEXT NOT NULL,
    "allowed_scopes" TEXT[] NOT NULL,
    -- carried in each access token; the gateway's token bucket per client
    "rate_limit_per_minute" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "oauth_clients_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "oauth_clients_rate_limit_check" CHECK ("rate_limit_per_minute" > 0)
);

CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    -- the private JWK as a compact JWE (alg dir, enc A256GCM) under a key
    -- derived from SIGNING_KEY_SECRET: a database dump alone cannot sign
    "private_jwk" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- set when a newer key took over; the public key stays in the JWKS
    -- until every token it signed has expired
    "retired_at" TIMESTAMPTZ(3),
    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);
CREATE INDEX "signing_keys_retired_at_idx" ON "signing_keys"("retired_at");

CREATE TABLE "refresh_tokens" (
    "id" UUID NOT NULL,
    -- SHA-256 of the opaque token (256 random bits: a slow hash adds nothing)
    "token_hash" TEXT NOT NULL,
    -- every token obtained by rotating one log-in shares its family
    "family_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "client_id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    -- the access token issued with this refresh token, revoked with the family
    "access_token_id" TEXT NOT NULL,
    "access_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    -- rotated: presenting it again is reuse and revokes the family
    "used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens"("token_hash");
CREATE INDEX "refresh_tokens_family_id_idx" ON "refresh_tokens"("family_id");
CREATE INDEX "refresh_tokens_expires_at_idx" ON "refresh_tokens"("expires_at");

-- Revoked access tokens until they expire; published_at is set once the
-- revocation is on the NATS KV bucket the gateways watch (an outbox for KV).
CREATE TABLE "revoked_tokens" (
    "jti" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    CONSTRAINT "revoked_tokens_pkey" PRIMARY KEY ("jti")
);
CREATE INDEX "revoked_tokens_published_at_revoked_at_idx" ON "revoked_tokens"("published_at", "revoked_at");
