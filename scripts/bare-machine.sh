#!/usr/bin/env bash
# `npm install && npm start` on a bare machine, checked on this one: run as
# root, it clones this repository into a private folder (mode 0700, in root's
# home) and runs the start path inside a private mount namespace (unshare -m)
# where the machine's PostgreSQL is gone:
#   - /usr/lib/postgresql, /usr/share/postgresql* and /etc/postgresql* are empty;
#   - dpkg's records of the postgresql* packages are hidden (status, info/);
#   - /etc is a private copy without the `postgres` account (passwd, shadow,
#     group, gshadow), so the start path must find or make another account;
#   - /var/lib/orderflow is a fresh tmpfs (nothing left behind).
# Then it waits for the gateway, places an order as a new customer and waits
# for PENDING_SHIPMENT, and stops the system with SIGINT (Ctrl-C).
#
#   sudo scripts/bare-machine.sh            # npm install from the registry (npm's cache helps)
#   KEEP=1 sudo scripts/bare-machine.sh     # keep the clone and its log
#
# Needs: root, unshare (util-linux), git, node, npm, network access to the npm
# registry, nats-server (or apt-get to install it). Not part of CI: it installs
# every dependency, which takes minutes.
set -euo pipefail

if [[ "${1:-}" != "--inside" ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "bare-machine.sh: run it as root (it mounts and makes accounts in a private namespace)" >&2; exit 2; }
  repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
  home=$(mktemp -d /root/orderflow-bare-XXXXXX) # 0700, in root's 0700 home
  chmod 700 "$home"
  echo "bare-machine: cloning $repo (HEAD $(git -C "$repo" rev-parse --short HEAD)) into $home/orderflow"
  git clone --quiet "$repo" "$home/orderflow"
  status=0
  unshare --mount --propagation private "$0" --inside "$home" || status=$?
  if [[ -z "${KEEP:-}" ]]; then rm -rf "$home"; else echo "bare-machine: kept $home (log: $home/start.log)"; fi
  if [[ $status -eq 0 ]]; then echo "bare-machine: PASS"; else echo "bare-machine: FAIL ($status)"; fi
  exit "$status"
fi

# ── Inside the namespace ────────────────────────────────────────────────────
home=$2
work=$(mktemp -d /tmp/orderflow-bare-ns-XXXXXX)

# The machine's PostgreSQL: binaries, shared files, configuration.
for dir in /usr/lib/postgresql /usr/share/postgresql /usr/share/postgresql-common; do
  [[ -d $dir ]] && mount -t tmpfs -o size=1m none "$dir"
done

# dpkg's records of it.
if [[ -f /var/lib/dpkg/status ]]; then
  awk -v RS= -v ORS='\n\n' '!/^Package: postgresql/' /var/lib/dpkg/status > "$work/status"
  mount --bind "$work/status" /var/lib/dpkg/status
  mkdir "$work/info"
  find /var/lib/dpkg/info -maxdepth 1 -type f ! -name 'postgresql*' -exec cp -p -t "$work/info/" {} +
  mount --bind "$work/info" /var/lib/dpkg/info
fi

# /etc without the postgres account (a copy, so useradd can write it here and only here).
cp -a /etc "$work/etc"
for f in passwd shadow group gshadow; do
  [[ -f "$work/etc/$f" ]] && sed -i '/^postgres:/d' "$work/etc/$f"
done
rm -rf "$work"/etc/postgresql "$work"/etc/postgresql-common
mount --bind "$work/etc" /etc

mkdir -p /var/lib/orderflow
mount -t tmpfs none /var/lib/orderflow

echo "bare-machine: hidden: $(ls /usr/lib/postgresql | wc -l) PostgreSQL versions left, postgres account: $(getent passwd postgres >/dev/null && echo present || echo none), dpkg: $(dpkg -l 'postgresql*' 2>/dev/null | grep -c '^ii' || true) postgresql packages"
if getent passwd postgres >/dev/null || [[ -n $(ls /usr/lib/postgresql) ]]; then
  echo "bare-machine: could not hide the machine's PostgreSQL" >&2
  exit 3
fi

cd "$home/orderflow"
echo "bare-machine: npm install"
npm install --no-audit --no-fund > "$home/install.log" 2>&1 || { tail -30 "$home/install.log"; exit 4; }

base=$((20000 + RANDOM % 20000))
export PG_PORT=$base NATS_PORT=$((base + 1)) SMTP_PORT=$((base + 2)) GATEWAY_PORT=$((base + 3)) AUTH_PORT=$((base + 4))
export PRODUCTS_PORT=$((base + 5)) ORDERS_PORT=$((base + 6)) SHIPMENTS_PORT=$((base + 7)) METRICS_PORT=$((base + 8))
echo "bare-machine: npm start (gateway on 127.0.0.1:$GATEWAY_PORT)"
setsid npm start > "$home/start.log" 2>&1 &
start=$!
stop() {
  kill -INT -- "-$start" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$start" 2>/dev/null || return 0; sleep 1; done
  kill -KILL -- "-$start" 2>/dev/null || true
}
trap stop EXIT

GATEWAY="http://127.0.0.1:$GATEWAY_PORT/graphql" node --input-type=module <<'EOF'
const gateway = process.env.GATEWAY;
const gql = async (query, variables = {}, token) => {
  const res = await fetch(gateway, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  return res.json();
};
const until = async (what, check, ms) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
};
const t0 = Date.now();
const productId = await until('the demo catalog', async () => (await gql('{ products(first: 1) { edges { node { id } } } }')).data?.products.edges[0]?.node.id, 300_000);
console.log(`bare-machine: the gateway answers with the demo catalog after ${Math.round((Date.now() - t0) / 1000)} s`);
const email = `bare-${Date.now()}@example.test`;
const signUp = await gql('mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }', { input: { email, password: 'bare-machine-pw-1', name: 'Bare Machine' } });
const token = signUp.data?.signUp.accessToken;
if (!token) throw new Error(`signUp failed: ${JSON.stringify(signUp)}`);
const placed = await gql(
  'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename ... on OrderPlaced { order { id status } } } }',
  { input: { idempotencyKey: `bare-${Date.now()}`, items: [{ productId, quantity: 1 }], paymentToken: 'tok_visa',
      shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' } } },
  token,
);
const order = placed.data?.placeOrder.order;
if (!order) throw new Error(`placeOrder failed: ${JSON.stringify(placed)}`);
console.log(`bare-machine: order ${order.id} placed (${order.status})`);
const status = await until('PENDING_SHIPMENT', async () => {
  const s = (await gql('query($id: ID!) { order(id: $id) { status } }', { id: order.id }, token)).data?.order.status;
  return s === 'PENDING_SHIPMENT' ? s : undefined;
}, 60_000);
console.log(`bare-machine: order ${order.id} reached ${status}`);
EOF
check=$?

grep -E '^(start|postgres) +\|.*(account|embedded|PostgreSQL 16|private to root)|"msg":"[^"]*(account|embedded binaries|private to root)' "$home/start.log" | head -5 || true
echo "bare-machine: accounts now: $(getent passwd orderflow-postgres || echo 'no orderflow-postgres')"
stop
trap - EXIT
grep -qE 'start +\| stopped|"msg":"stopped"' "$home/start.log" && echo "bare-machine: npm start stopped cleanly on SIGINT"
exit "$check"
