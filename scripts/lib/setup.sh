# shellcheck shell=bash
# The one set-up of scripts/test, scripts/demo and scripts/benchmark: source
# this file, then call the steps a script needs, in this order.
#
#   sovereign_setup_controller [--test]
#                                     scripts/bootstrap (Docker Engine, the
#                                     virtualenv, the collection link; --test:
#                                     what the tests need too), the
#                                     virtualenv activated, ANSIBLE_CONFIG set
#   sovereign_build_images VERSION... the stack's images for these registry
#                                     versions, from their pinned sources,
#                                     as `docker save` archives in .cache/images
#   sovereign_image_archives          the directory of image archives given
#                                     (SOVEREIGN_IMAGE_ARCHIVES), if any
#   sovereign_install_collection      the collection built and installed from
#                                     its tarball into .cache/test-collections
#   sovereign_testhost_image          the test hosts' image, built once
#
# Each step is idempotent and takes seconds when there is nothing to do.
sovereign_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

sovereign_setup_controller() {
  bash "$sovereign_repo/scripts/bootstrap" "$@" || return 1
  # shellcheck disable=SC1091
  source "$sovereign_repo/.cache/venv/bin/activate"
  export ANSIBLE_CONFIG="$sovereign_repo/ansible.cfg"
}

# The images the stack runs for each VERSION of the registry, with busybox
# (the disk guard) and docker_auth; without a VERSION, the images of the
# inventory's settings (the images role's default). Go modules come through
# the mirror scripts/bootstrap found (.cache/image-sources.json) and are
# checked against their pinned hashes, as an air-gapped site's build host does.
sovereign_build_images() {
  local wanted=() version
  for version in "$@"; do wanted+=("registry:$version"); done
  ((${#wanted[@]} == 0)) || wanted=(busybox:1.35.0 cesanta/docker_auth:1.14.0 "${wanted[@]}")
  ansible-playbook "$sovereign_repo/playbooks/build_images.yml" -e @"$sovereign_repo/.cache/image-sources.json" \
    -e "$(python3 -c 'import json, sys
settings = {"sovereign_registry_images_archive_dir": sys.argv[1]}
if sys.argv[2:]:
    settings["sovereign_registry_images_wanted"] = sys.argv[2:]
print(json.dumps(settings))' "$sovereign_repo/.cache/images" "${wanted[@]}")"
}

# The directory of image archives scripts/bootstrap found (SOVEREIGN_IMAGE_ARCHIVES), if any.
sovereign_image_archives() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["sovereign_registry_images_controller_archive_dir"])' \
    "$sovereign_repo/.cache/image-sources.json"
}

sovereign_install_collection() {
  bash "$sovereign_repo/scripts/install-collection"
}

sovereign_testhost_image() {
  python3 "$sovereign_repo/tests/testhosts/testhosts.py" image
}
