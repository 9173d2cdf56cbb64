# Sourced by namespace tests (after NETNS_PRELUDE): start `rackforge serve` on srv0 in this
# namespace and wait until it prints `listening`. Needs $T (a temp dir) and SERVE_ARGS.
start_rackforge() {
  RACKFORGE_ADMIN_PASSWORD=labpass "$NODE" "$REPO_ROOT/bin/rackforge.js" serve --data "$T/data" --http-port 8080 \
    --log-level debug "$@" >"$T/serve.out" 2>"$T/serve.err" &
  RF_PID=$!
  for i in $(seq 1 300); do
    if grep -q 'listening' "$T/serve.out" 2>/dev/null; then return 0; fi
    if ! kill -0 $RF_PID 2>/dev/null; then echo "rackforge serve exited:" >&2; cat "$T/serve.err" >&2; return 1; fi
    sleep 0.1
  done
  echo "rackforge serve did not print listening" >&2; cat "$T/serve.err" >&2; return 1
}
