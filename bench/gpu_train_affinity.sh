#!/usr/bin/env bash
# Train the shipped DeepDTA models and their cross-validation on one GPU inside a hard time budget.
#
#   DATA=.gpu/dta OUT=$OUT [BUDGET=480] bash bench/gpu_train_affinity.sh
#
# DATA holds davis/ and kiba/ (drugs.tsv, targets.fasta, train_pairs.tsv as in ../shared/data/dta). Jobs, in
# order of priority, each with a share of BUDGET seconds (unused time rolls over to the next job) and each
# stopping cleanly (at the next 16-step chunk) when its share is spent (`--time-budget`), `timeout` as a backstop:
#   1. davis final model, all five folds, EPOCHS_DAVIS epochs   -> $OUT/dta-davis.tar.gz
#   2. kiba final model, all five folds, EPOCHS_KIBA epochs     -> $OUT/dta-kiba.tar.gz
#   3. davis 5-fold CV (fixed epochs, held-out fold curve)      -> $OUT/cv.tar.gz (davis_cv/)
#   4. kiba 5-fold CV                                           -> $OUT/cv.tar.gz (kiba_cv/)
#   5. bench/affinity_train.py (block vs per-pair speed, accuracy after BENCH_EPOCHS epochs) -> logs.tar.gz
#   6. davis kernel-size CV sweep, SWEEP_EPOCHS epochs each     -> $OUT/cv.tar.gz (sweep_*/)
# After the CV jobs the model cards are re-rendered with the CV tables. $OUT also gets logs.tar.gz and
# run_summary.json (jobs, budgets, exit codes, seconds, device) — at most 6 files, each rewritten after every job.
# CPU dry run (about 10 minutes on 2 cores): a DATA with a few targets per data set, PRESET_DAVIS=test
# PRESET_KIBA=test EPOCHS_DAVIS=3 EPOCHS_KIBA=3 SWEEP_EPOCHS=2 SWEEP_KERNELS=8:12 BUDGET=900.
set -uo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-.gpu/dta}
OUT=${OUT:?set OUT to the output folder}
BUDGET=${BUDGET:-480}
EPOCHS_DAVIS=${EPOCHS_DAVIS:-100}
EPOCHS_KIBA=${EPOCHS_KIBA:-100}
SWEEP_EPOCHS=${SWEEP_EPOCHS:-30}
BENCH_EPOCHS=${BENCH_EPOCHS:-3}
SWEEP_KERNELS=${SWEEP_KERNELS:-"4:12 8:8 8:12 6:8"}
PRESET_DAVIS=${PRESET_DAVIS:-davis}
PRESET_KIBA=${PRESET_KIBA:-kiba}
WORK=${WORK:-$(mktemp -d /tmp/gpu_affinity.XXXXXX)}
MARGIN=${MARGIN:-15}     # seconds a job needs after training stops (final evaluation, writing results)

export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export JAX_COMPILATION_CACHE_DIR="$WORK/jax_cache"
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
export XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p "$OUT" "$WORK/models" "$WORK/cv" "$WORK/logs"
OUT=$(cd "$OUT" && pwd); WORK=$(cd "$WORK" && pwd)   # DATA stays as given: it is quoted in the model cards
START=$(date +%s)
ROLL=0
JOBS="$WORK/logs/jobs.tsv"
printf 'job\tbudget_s\trc\tseconds\n' > "$JOBS"

elapsed() { echo $(( $(date +%s) - START )); }

# The real CLI; if another module's CLI cannot import here, the same handlers through a parser with only `affinity`.
if python -c "import genoscreen.cli as c; c.build_parser()" > "$WORK/logs/preflight.log" 2>&1; then
  CLI=(python -m genoscreen)
else
  echo "full CLI does not import here (see logs/preflight.log); using bench/_affinity_cli.py" | tee -a "$WORK/logs/preflight.log"
  CLI=(python bench/_affinity_cli.py)
fi
python - "$WORK/logs/device.json" >> "$WORK/logs/preflight.log" 2>&1 <<'PY'
import json, platform, sys
import flax, jax, optax
print("python", sys.version.split()[0], "jax", jax.__version__, "flax", flax.__version__, "optax", optax.__version__)
print("devices", jax.devices())
dev = jax.devices()[0]
json.dump({"host": platform.node(), "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
           "jax": jax.__version__, "flax": flax.__version__}, open(sys.argv[1], "w"))
PY

pack() {
  local m
  for m in dta-davis dta-kiba; do
    [ -f "$WORK/models/$m/weights.msgpack" ] && tar -C "$WORK/models" -czf "$OUT/$m.tar.gz" "$m"
  done
  (cd "$WORK/cv" && ls -d */ > /dev/null 2>&1 && tar --exclude='*/work' -czf "$OUT/cv.tar.gz" */) || true
  tar -C "$WORK" -czf "$OUT/logs.tar.gz" logs
  python - "$JOBS" "$OUT/run_summary.json" "$BUDGET" "$WORK/logs/device.json" "$(elapsed)" <<'PY'
import csv, json, os, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
device = json.load(open(sys.argv[4])) if os.path.exists(sys.argv[4]) else {}
json.dump({"budget_s": int(sys.argv[3]), "elapsed_s": int(sys.argv[5]), "jobs": rows, **device},
          open(sys.argv[2], "w"), indent=1)
PY
}

# run_job NAME SHARE_PERCENT MIN_SECONDS CLI-ARGS... : run with a budget of SHARE% of BUDGET plus rolled-over time.
run_job() {
  local name=$1 share=$2 min=$3; shift 3
  local left=$(( BUDGET - $(elapsed) - 5 ))
  local b=$(( BUDGET * share / 100 + ROLL ))
  (( b > left )) && b=$left
  if (( b < min )); then
    printf '%s\t%s\tskipped\t0\n' "$name" "$b" >> "$JOBS"; return 0
  fi
  local t0=$(date +%s)
  local train_budget=$(( b - MARGIN )); (( train_budget < 5 )) && train_budget=5
  timeout --kill-after=10 $(( b + 20 )) "${CLI[@]}" "$@" --time-budget "$train_budget" \
    > "$WORK/logs/$name.out" 2> "$WORK/logs/$name.log"
  local rc=$? used=$(( $(date +%s) - t0 ))
  ROLL=$(( b - used )); (( ROLL < 0 )) && ROLL=0
  printf '%s\t%s\t%s\t%s\n' "$name" "$b" "$rc" "$used" >> "$JOBS"
  pack
}

inputs() { echo --drugs "$DATA/$1/drugs.tsv" --targets "$DATA/$1/targets.fasta" --pairs "$DATA/$1/train_pairs.tsv"; }

run_job davis_final 20 30 affinity train $(inputs davis) --preset "$PRESET_DAVIS" --epochs "$EPOCHS_DAVIS" \
  --out "$WORK/models/dta-davis"
run_job kiba_final 30 40 affinity train $(inputs kiba) --preset "$PRESET_KIBA" --epochs "$EPOCHS_KIBA" \
  --out "$WORK/models/dta-kiba"
run_job davis_cv 20 40 affinity cv $(inputs davis) --preset "$PRESET_DAVIS" --epochs "$EPOCHS_DAVIS" \
  --out "$WORK/cv/davis_cv"
run_job kiba_cv 25 50 affinity cv $(inputs kiba) --preset "$PRESET_KIBA" --epochs "$EPOCHS_KIBA" \
  --out "$WORK/cv/kiba_cv"

# Model cards with the CV tables (library call; the weights and config.json are untouched).
python - "$WORK" >> "$WORK/logs/cards.log" 2>&1 <<'PY'
import json, sys
from pathlib import Path
from genoscreen.affinity.card import rerender_model_card
work = Path(sys.argv[1])
for name, cv in (("dta-davis", "davis_cv"), ("dta-kiba", "kiba_cv")):
    model, summary = work / "models" / name, work / "cv" / cv / "cv_summary.json"
    if (model / "config.json").exists() and summary.exists():
        rerender_model_card(model, summary)
        print("card updated", model)
PY
pack

# The speed benchmark (its own time limit; no --time-budget flag).
left=$(( BUDGET - $(elapsed) - 5 ))
if (( left > 60 )); then
  t0=$(date +%s)
  timeout --kill-after=10 $(( left < 120 ? left : 120 )) python bench/affinity_train.py --data "$DATA/davis" \
    --preset "$PRESET_DAVIS" --steps-block 32 --steps-pair 8 --accuracy-epochs "$BENCH_EPOCHS" \
    --out "$WORK/logs/bench_affinity_train.json" > "$WORK/logs/bench.out" 2> "$WORK/logs/bench.log"
  printf 'bench\t%s\t%s\t%s\n' "$left" "$?" "$(( $(date +%s) - t0 ))" >> "$JOBS"
  pack
fi

for pair in $SWEEP_KERNELS; do
  kd=${pair%%:*}; kt=${pair##*:}
  run_job "sweep_d${kd}_t${kt}" 100 60 affinity cv $(inputs davis) --preset "$PRESET_DAVIS" --epochs "$SWEEP_EPOCHS" \
    --kernel-drug "$kd" --kernel-target "$kt" --out "$WORK/cv/sweep_d${kd}_t${kt}"
done
pack
echo "done in $(elapsed) s; results in $OUT:"; ls -la "$OUT"; cat "$JOBS"
