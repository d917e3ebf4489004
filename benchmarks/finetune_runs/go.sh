set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site E5_FILE=/tmp/e5.bin VOCMINE_SHARED_DATA=/tmp/data VOCMINE_TORCH_DEVICE=cuda HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
gunzip -c .gpu/e5-small-q4-pruned.bin.gz > /tmp/e5.bin; mkdir -p /tmp/data /tmp/x; tar xJf .gpu/data.tar.xz -C /tmp/data
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())"
T=${T:-500}
while read -r line; do
  [ -z "$line" ] && continue
  name=$(echo $line | awk '{print $2}')
  script=benchmarks/finetune_runs/run.py
  case "$line" in multitask*) script=benchmarks/finetune_runs/multitask.py; line=${line#multitask } ;; esac
  (timeout $T python3 $script $line --out /tmp/x > /tmp/x/$name.stdout 2>&1; echo "$name rc=$?") &
done < "${EXPS:-benchmarks/finetune_runs/exps_call3.txt}"
wait
nvidia-smi --query-gpu=memory.used --format=csv
python3 benchmarks/finetune_runs/summary.py /tmp/x/*/result.json
grep -L "\"seconds\"" /tmp/x/*.stdout | while read f; do echo "== FAILED $f"; tail -5 $f; done
for d in /tmp/x/*/; do n=$(basename $d); tar czf $OUT/$n.tgz -C /tmp/x $n; done; ls -la $OUT
