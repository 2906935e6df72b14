#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (Debian's slurm-wlm and munge, as root) so that
# tests/test_slurm_profile.py submits real jobs through workflow/profiles/slurm.
# CI calls it best-effort: where it cannot run (not root, no apt), that test skips.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # the daemons live in sbin, which a non-login PATH may lack
[ "$(id -u)" = 0 ] || { echo "start_cluster: not root, no SLURM cluster"; exit 1; }
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge /etc/slurm
[ -f /etc/munge/munge.key ] || head -c 1024 /dev/urandom > /etc/munge/munge.key
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c "munged --force" || munged --force
state=/tmp/atomscope-slurm
mkdir -p "$state"/{state,spool,log}
# slurm.conf must sit at /etc/slurm: the job step inside an allocation reads it from there
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=atomscope
SlurmctldHost=localhost
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmUser=root
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
NodeName=localhost CPUs=$(nproc) RealMemory=$(free -m | awk '/Mem:/ {print int($2 * 0.8)}')
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 20); do sinfo -h -o %t 2>/dev/null | grep -q idle && { echo "start_cluster: SLURM node idle"; exit 0; }; sleep 1; done
echo "start_cluster: the node did not come up"; exit 1
