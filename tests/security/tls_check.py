"""sslyze's check of the registry's TLS against Mozilla's "intermediate" configuration, through its Python API.

  tls_check.py HOSTNAME IP_ADDRESS CA_FILE

(the command line's --json_out path skips the Mozilla check). The internal
CA is given as the custom trust store, so the certificate chain is checked
too. Prints one JSON line: {"compliant": bool, "issues": {...}}; exits 1
when not compliant.
"""

import json
import sys
from pathlib import Path

from sslyze import (
    CertificateInfoExtraArgument,
    Scanner,
    ScanCommandsExtraArguments,
    ServerNetworkLocation,
    ServerScanRequest,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)


def main(hostname, address, ca_file):
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=hostname, ip_address=address, port=443),
        scan_commands=SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_file))),
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    result = next(iter(scanner.get_results()))
    try:
        check_server_against_tls_configuration(
            server_scan_result=result,
            tls_config_to_check_against=MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE))
    except ServerNotCompliantWithTlsConfiguration as error:
        print(json.dumps({"compliant": False, "issues": error.issues}))
        return 1
    print(json.dumps({"compliant": True, "issues": {}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
