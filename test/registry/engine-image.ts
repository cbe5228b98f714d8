import Docker from "dockerode";
import { pack } from "tar-stream";

/**
 * Builds a small two-layer image on the local Docker engine from
 * `local/busybox:1` (made by the deps script without any pull), with a file
 * holding `content`, and tags it `tag`. Returns a remover for the tag.
 */
export async function buildTestImage(docker: Docker, tag: string, content: string): Promise<() => Promise<void>> {
  const context = pack();
  context.entry({ name: "Dockerfile" }, `FROM local/busybox:1\nRUN echo '${content}' > /hello.txt\nCMD ["cat", "/hello.txt"]\n`);
  context.finalize();
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => (err === null ? resolve(out) : reject(err)));
  });
  const failed = events.find((e) => e.error !== undefined);
  if (failed !== undefined) throw new Error(`test image build failed: ${failed.error ?? ""}`);
  return () => removeImage(docker, tag);
}

/** Removes an image tag, ignoring a tag that is already gone. */
export async function removeImage(docker: Docker, ref: string): Promise<void> {
  await docker.getImage(ref).remove({ force: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  });
}
