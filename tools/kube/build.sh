#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok, helm) from the Go modules pinned in this directory, into a cache outside
# the checkout keyed by those pins. Prints the directory holding the binaries. A warm run only
# hashes the pins and returns.
set -euo pipefail

# Everything is in a function so bash has read the whole script before it runs any of it.
main() {

  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
  cache_root="${OPEN_VCLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/open-vcluster}/kube-tools"

  k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2 }' "$here/go.mod")"
  helm_version="$(awk '$1 == "helm.sh/helm/v3" { print $2 }' "$here/go.mod")"
  minor="${k8s_version#v1.}"; minor="${minor%%.*}"
  # Without these the binaries call themselves v0.0.0-master and charts with a kubeVersion
  # constraint refuse the cluster.
  ldflags="-s -w \
    -X k8s.io/component-base/version.gitVersion=$k8s_version \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version \
    -X k8s.io/client-go/pkg/version.gitMajor=1 \
    -X k8s.io/client-go/pkg/version.gitMinor=$minor \
    -X helm.sh/helm/v3/internal/version.version=$helm_version"

  # The key covers everything that decides the bytes of the binaries: the pins, the etcd
  # main, the Go toolchain and the version stamps.
  key="$(cat "$here/go.mod" "$here/go.sum" "$here/cmd/etcd/main.go" \
    <("$go_bin" env GOVERSION GOOS GOARCH) <(echo "$ldflags") | sha256sum | cut -c1-16)"
  out="$cache_root/$key"
  binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm)

  complete() {
    for b in "${binaries[@]}"; do [[ -x "$out/$b" ]] || return 1; done
    [[ -f "$out/kwok-stages.yaml" ]]
  }

  # KWOK's own stage definitions, shipped in its module: nodes become Ready and keep a
  # heartbeat, pods become Ready (or complete), deleted pods go away.
  write_stages() {
    local dir
    dir="$(cd "$here" && "$go_bin" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
    local files=(node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml
      pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
    : >"$1/kwok-stages.yaml.tmp"
    for f in "${files[@]}"; do
      { echo "---"; cat "$dir/$f"; } >>"$1/kwok-stages.yaml.tmp"
    done
    mv "$1/kwok-stages.yaml.tmp" "$1/kwok-stages.yaml"
  }

  if complete; then echo "$out"; exit 0; fi

  mkdir -p "$cache_root"
  # One build at a time per cache, even when several test processes ask together.
  exec 9>"$cache_root/.lock"
  flock 9
  if complete; then echo "$out"; exit 0; fi

  staging="$(mktemp -d "$cache_root/.build-XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  started=$SECONDS
  echo "building the test cluster binaries into $out (first run only; takes minutes)" >&2
  cd "$here"
  CGO_ENABLED=0 "$go_bin" build -trimpath -ldflags "$ldflags" -o "$staging/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl \
    sigs.k8s.io/kwok/cmd/kwok \
    helm.sh/helm/v3/cmd/helm \
    ./cmd/etcd
  write_stages "$staging"
  rm -rf "$out"
  mv "$staging" "$out"
  trap - EXIT
  echo "built in $((SECONDS - started))s" >&2
  echo "$out"
}

main "$@"
