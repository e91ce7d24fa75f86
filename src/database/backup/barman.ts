/**
 * `barman.sh`, the program behind every use of barman-cloud in a pod (PostgreSQL's
 * `archive_command` and `restore_command`, a Backup's Job, a restore), as the text the pods run
 * with `bash -c "$BARMAN_SCRIPT" barman <command>`.
 *
 * @module
 */
import script from "./barman.sh" with { type: "text" };

const HEADER = /^#![^\n]*\n(#[^\n]*\n)*\n/;

/** `barman.sh` without its header. */
export const BARMAN_SCRIPT: string = script.replace(HEADER, "");

/** The environment variable the pods find {@linkcode BARMAN_SCRIPT} in. */
export const BARMAN_SCRIPT_ENV = "BARMAN_SCRIPT";

/** PostgreSQL's `archive_command`: the shell expands the script from the server's environment. */
export const ARCHIVE_COMMAND = `bash -c "$${BARMAN_SCRIPT_ENV}" barman archive %p`;
