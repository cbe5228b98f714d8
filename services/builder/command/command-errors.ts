import { DomainError } from "../../../libs/errors/domain-error.js";

/**
 * A secret build arg sent to the command mode. Docker's classic builder and
 * Podman (buildah) both write the values of the build args a `RUN` step sees
 * into the image history (`|1 TOKEN=… /bin/sh -c …`), where anyone who can
 * pull the image reads them; refusing is the only way not to leak them.
 */
export class SecretArgUnsupportedError extends DomainError {
  constructor(readonly argName: string) {
    super(
      "failedPrecondition",
      `secret build arg ${argName} is not supported by the command mode: docker and podman record build arg values in the image history`,
    );
  }
}
