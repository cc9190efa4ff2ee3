# shellcheck shell=bash
# What the suites of tests/ci/suites.py run, sourced before each suite's
# command (tests/ci/runner.py). A suite's environment has
# SOVEREIGN_REGISTRY_VERSION (its registry version, if any) and
# SOVEREIGN_TEST_SHARED (the shared deployment it runs on, if any).
# shellcheck disable=SC1091
source scripts/lib/setup.sh

testhosts() { python3 tests/testhosts/testhosts.py "$@"; }

# molecule_for SCENARIO ACTION [ARG...]: a scenario's Molecule state is its
# own per registry version, so that two lanes can run one scenario for two
# versions at once.
molecule_for() {
  local scenario=$1 action=$2
  shift 2
  MOLECULE_EPHEMERAL_DIRECTORY="$PWD/.cache/molecule/$scenario-$SOVEREIGN_REGISTRY_VERSION" \
    molecule "$action" -s "$scenario" "$@"
}

# molecule_reset SCENARIO: what an interrupted run left (test hosts,
# Molecule's state, which would make it skip its create step) removed.
molecule_reset() {
  testhosts down "$1-$SOVEREIGN_REGISTRY_VERSION" >/dev/null 2>&1
  rm -rf "$PWD/.cache/molecule/$1-$SOVEREIGN_REGISTRY_VERSION"
}

# molecule_test SCENARIO [ARG...]: the scenario's whole test sequence, from
# nothing.
molecule_test() {
  local scenario=$1
  shift
  molecule_reset "$scenario"
  molecule_for "$scenario" test "$@"
}

# molecule_test_without_idempotence SCENARIO: the scenario's test hosts,
# converge and verify, kept for the suites that share them (a later suite
# runs site.yml a second time).
molecule_test_without_idempotence() {
  molecule_reset "$1"
  # converge creates and prepares the test hosts first.
  molecule_for "$1" converge && molecule_for "$1" verify
}

# on_shared SCENARIO: the scenario's verify against the shared deployment
# (SOVEREIGN_TEST_SHARED) instead of test hosts of its own.
on_shared() {
  local scenario=$1 alias rc
  alias="$scenario-$SOVEREIGN_REGISTRY_VERSION"
  testhosts share "$SOVEREIGN_TEST_SHARED" "$alias" || return 1
  molecule_for "$scenario" verify
  rc=$?
  testhosts down "$alias"
  return $rc
}

module_docs() {
  local module role
  for module in plugins/modules/*.py; do
    module=$(basename "$module" .py)
    ansible-doc "sovereign.registry.$module" >/dev/null || return 1
    echo "ansible-doc sovereign.registry.$module: ok"
  done
  for role in roles/*/; do
    role=$(basename "$role")
    ansible-doc -t role "sovereign.registry.$role" >/dev/null || return 1
    echo "ansible-doc -t role sovereign.registry.$role: ok"
  done
}

syntax() {
  local playbook
  for playbook in playbooks/*.yml; do
    ansible-playbook -i inventory.example --syntax-check "$playbook" || return 1
  done
}

# The access report of inventory.example, made by the command docs/acl.md
# gives, is the committed example, byte for byte.
access_report_example() {
  local out rc
  out=$(mktemp -d)
  ansible-playbook -i inventory.example sovereign.registry.access_report -e access_report_dir="$out" &&
    diff -u docs/examples/tutorial/access-report.md "$out/access-report.md" &&
    diff -u docs/examples/tutorial/access-report.html "$out/access-report.html"
  rc=$?
  rm -rf "$out"
  return $rc
}

# ansible-test wants the collection in an ansible_collections tree: a copy
# of the tracked files. Sanity first, then the unit tests through ansible-test
# (tests/unit also runs with plain pytest).
ansible_test() {
  local tree=.cache/ansible-test/ansible_collections/sovereign/registry
  rm -rf .cache/ansible-test && mkdir -p "$tree"
  git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$tree"
  # ansible-core 2.19.14's ansible-test bootstraps pip 24.2 (tests/sanity/get_pip.py says why).
  mkdir -p ~/.ansible/test/cache
  cp tests/sanity/get_pip.py ~/.ansible/test/cache/get_pip_24_2.py
  (cd "$tree" && git init -q && git add -A && ansible-test sanity --local --python 3.11 -v \
    && ansible-test units --local --python 3.11)
}

# The collection's plugins (modules, filters, module_utils), the audit
# receiver, the test library, the test-host tool and the differential test's
# model of docker_auth's directory labels are typed, strictly (mypy.ini).
typecheck() {
  (cd .cache/collections && mypy --config-file ../../mypy.ini -p ansible_collections.sovereign.registry.plugins) &&
    # The receiver runs on the host's own Python: 3.10 at the oldest.
    mypy --config-file mypy.ini --python-version 3.10 roles/audit/files/sovereign-registry-audit.py \
      roles/docker_auth/files/sovereign-registry-login-guard.py roles/browser/files/sovereign-registry-browser.py &&
    (cd tests && MYPYPATH=../.cache/collections mypy --config-file ../mypy.ini -p e2e -p ci \
      -m differential.directory_labels) &&
    (cd tests && mypy --config-file ../mypy.ini testhosts/testhosts.py testhosts/image/sovereign_testhost_bytecode.py \
      browser/drive.py)
}

# The changelog fragments are valid and CHANGELOG.md is what they generate.
changelog() {
  antsibull-changelog lint && antsibull-changelog generate && git diff --exit-code -- CHANGELOG.md
}

# alert_rules: the alert rules checked and their unit tests run by promtool,
# taken from the distribution's prometheus package (not installed: no
# Prometheus starts on this machine).
alert_rules() {
  local promtool=.cache/promtool/usr/bin/promtool
  if [ ! -x "$promtool" ]; then
    rm -rf .cache/promtool && mkdir -p .cache/promtool || return 1
    (cd .cache/promtool && apt-get download prometheus >/dev/null && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool) || return 1
  fi
  "$promtool" check rules roles/prometheus/files/sovereign-registry-alerts.yml &&
    "$promtool" test rules tests/alerts/sovereign-registry-alerts.test.yml
}

pytest_suite() { python -m pytest -q -s -p no:cacheprovider "$@"; }
