// Pure: the host commands that keep a host's images in step with the manifest: a re-pull of a
// tag on request, and the removal of an image no tenant runs any more. Both run as the SSH
// user, whose docker group suffices.
//
// Why commands and not the Docker provider's own image resource: its create looks the image up
// locally first and pulls only when it is missing, so `pullTriggers` alone never re-pulls a
// tag that is on the host (kreuzwerker/terraform-provider-docker v4.5.0
// internal/provider/resource_docker_image_funcs.go findImage; the open issues
// kreuzwerker/terraform-provider-docker#172 and pulumi/pulumi-docker#342 report it). Its
// delete, with keep_locally false, is `ImageRemove(name)` without force (removeImage), which
// Docker refuses with a conflict while any container, even a stopped one, uses the image as
// its only tag (moby daemon/images/image_delete.go ImageDelete), failing the apply; and a
// replacement (new pullTriggers) would delete the very tag the new resource stands for. So
// the image resource keeps its image (keepLocally: true) and these commands do the rest.
import { raw, script, sh, type Shell } from "./shell";

/** How the re-pull logs in: the registry as `docker login` names it and the user. */
export interface RegistryLogin {
  readonly server: string;
  readonly username: string;
}

/**
 * Pulls `ref` again (a re-pushed tag comes down). With a login, the password arrives on stdin
 * and lives only in a private, temporary Docker config that is removed on exit: nothing is
 * left in the SSH user's ~/.docker, and the password is never in the command text.
 */
export function imageRepullScript(ref: string, login?: RegistryLogin): Shell {
  return script(
    raw("set -eu"),
    raw("cfg=$(mktemp -d)"),
    raw("trap 'rm -rf \"$cfg\"' EXIT"),
    ...(login === undefined
      ? []
      : [
          raw('IFS= read -r password || [ -n "${password:-}" ]'),
          sh`printf '%s\\n' "$password" | DOCKER_CONFIG="$cfg" docker login --username ${login.username} --password-stdin ${login.server} >/dev/null`,
        ]),
    sh`DOCKER_CONFIG="$cfg" docker pull --quiet ${ref}`,
    sh`echo ${`tenantry: pulled ${ref} again:`} "$(docker image inspect --format '{{.Id}}' ${ref})"`,
  );
}

/**
 * Removes `ref` from the host unless a container (running or stopped, of any tenant or none)
 * still uses it: then it is kept and the step succeeds, saying by whom. `docker image rm`
 * without force refuses an image in use by itself, so a container created meanwhile is safe
 * too; an image that also has another tag only loses this one.
 */
export function imageRemoveScript(ref: string): Shell {
  return script(
    raw("set -eu"),
    sh`if ! docker image inspect ${ref} >/dev/null 2>&1; then echo ${`tenantry: ${ref} is not on the host`}; exit 0; fi`,
    sh`users=$(docker ps --all --quiet --filter ancestor=${ref} | tr '\\n' ' ')`,
    raw('if [ -n "$users" ]; then'),
    sh`  echo ${`tenantry: kept ${ref}: used by containers`} "$users"`,
    raw("  exit 0"),
    raw("fi"),
    sh`if out=$(docker image rm ${ref} 2>&1); then echo ${`tenantry: removed ${ref}`}; exit 0; fi`,
    sh`if [ -n "$(docker ps --all --quiet --filter ancestor=${ref})" ]; then echo ${`tenantry: kept ${ref}: a container started using it`}; exit 0; fi`,
    raw('printf "%s\\n" "$out" >&2'),
    raw("exit 1"),
  );
}

/** The command text: the script as the SSH user. */
export function userCommand(body: Shell): string {
  return sh`/bin/sh -c ${body.text}`.text;
}
