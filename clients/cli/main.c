/*
 * main.c - the `sesame` command-line client: global options (accepted anywhere on the command
 * line), command dispatch and the usage text. The commands live in cmd_*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

#define DEFAULT_TIMEOUT_MS 10000

void cli_print_usage(FILE *out)
{
    fputs("Usage: sesame [--home DIR] [--json] [--timeout MS] COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  enroll --server wss://HOST:PORT --ca FILE --code CODE [--name DEVICE_NAME]\n"
          "                      enrol this device with an enrolment code, then log in\n"
          "  whoami              log in and show this device's user, role and site\n"
          "  admin invite --role ROLE --name NAME [--site SITE] [--ttl SECONDS]\n"
          "                      invite a new user; prints the enrolment code\n"
          "                      (roles: admin, nurse, psychiatrist, gp, auditor)\n"
          "  admin invite --user USER_ID [--ttl SECONDS]\n"
          "                      enrolment code for another device of an existing user\n"
          "  admin users         list the users\n"
          "  admin devices [--user USER_ID]\n"
          "                      list the devices (of one user)\n"
          "  admin revoke --device DEVICE_ID | --user USER_ID\n"
          "                      revoke a device, or a user with all their devices\n"
          "  admin oncall show   the on-duty psychiatrist, program lead, backups and\n"
          "                      emergency routes (admins and clinicians)\n"
          "  admin oncall set [--on-duty-psychiatrist USER_ID|none]\n"
          "              [--program-lead USER_ID|none]\n"
          "                      who the escalation chains page (admins)\n"
          "  admin backup set USER_ID BACKUP_ID|none\n"
          "                      a clinician's backup for escalations (admins)\n"
          "  audit tail [--since SEQ] [--actor USER_ID] [--action NAME] [--limit N]\n"
          "                      audit records, oldest first (auditor and admin roles)\n"
          "  audit show SEQ      one audit record and its leaf hash\n"
          "  audit checkpoint    the latest signed checkpoint of the audit log\n"
          "  audit prove SEQ     inclusion proof of a record, checked against the checkpoint\n"
          "  audit verify [--log-key VKEY [--repin]]\n"
          "                      check the whole log against the pinned log key and the\n"
          "                      checkpoint stored by the last verify\n"
          "  audit export --from YYYY-MM-DD --to YYYY-MM-DD [--fhir]\n"
          "                      audit records as JSON Lines (FHIR R4 AuditEvent with --fhir)\n"
          "  directory [--role ROLE]\n"
          "                      the team's active users (ids for --member, add, ...)\n"
          "  thread create --patient REF --title TEXT --member USER_ID [--member ...]\n"
          "                      new caseload thread; the title is sent encrypted\n"
          "  thread list         your caseload: threads, decrypted titles, unread counts\n"
          "  thread show THREAD  every message, decrypted and verified; marks them read\n"
          "  thread info THREAD  members and their devices\n"
          "  thread add THREAD USER_ID | thread remove THREAD USER_ID\n"
          "                      change the members (nurses and admins)\n"
          "  thread title THREAD TEXT\n"
          "                      send a new (encrypted) title\n"
          "  thread meta THREAD [--phase active|relapse_prevention]\n"
          "              [--sequence classic|light|none] [--sequence-due YYYY-MM-DD|none]\n"
          "              [--review-date YYYY-MM-DD] [--enrolled YYYY-MM-DD]\n"
          "                      show (no option) or set the episode's metadata\n"
          "  send THREAD [TEXT|-]\n"
          "                      encrypt and send a message (stdin when TEXT is - or absent)\n"
          "  sync                print the messages this device has not seen yet\n"
          "  follow [THREAD] [--count N] [--timeout-exit MS]\n"
          "                      print the open alerts you own or are copied on, then\n"
          "                      new messages and alert events as they arrive\n"
          "                      (until Ctrl-C; --count counts messages only)\n"
          "  scale record THREAD --phq9 a,b,c,d,e,f,g,h,i [--gad7 a,b,c,d,e,f,g]\n"
          "              [--phq2 a,b] [--date YYYY-MM-DD]\n"
          "                      score and send answers (encrypted), raise the alerts\n"
          "                      they trigger (answers 0..3; an empty answer: not\n"
          "                      answered), count it as an assessment contact\n"
          "  plan record THREAD [--date YYYY-MM-DD] [--antidepressant]\n"
          "                      record a change of treatment plan (encrypted)\n"
          "  contact record THREAD [--date YYYY-MM-DD]\n"
          "              [--type in_person|phone|video|assessment]\n"
          "                      record a contact with the patient (nurses; psychiatrists\n"
          "                      and GPs: assessment only)\n"
          "  alert raise THREAD --type CODE [--variant V] [--severity P0|P1|P2|P3|INFO]\n"
          "              [--note TEXT]\n"
          "                      raise an alert; the note is sent encrypted first\n"
          "  alert list [--open] [--mine] [--thread THREAD]\n"
          "                      alerts of your threads, most urgent first\n"
          "  alert show ID       an alert, its timeline and its note\n"
          "  alert ack ID        acknowledge an alert you own (stops its escalation)\n"
          "  alert resolve ID --code CODE [--outcome none|low|moderate|high|imminent]\n"
          "              [--note TEXT]\n"
          "                      close an alert (safety alerts need --outcome and --note)\n"
          "  alert cancel ID --code RAISED_IN_ERROR|DUPLICATE|WRONG_PATIENT\n"
          "                      withdraw an alert you raised (not a safety alert)\n"
          "  caseload [--nurse USER_ID] [--sort attention|name|weeks]\n"
          "                      one row per patient, computed on this device: PHQ-9 baseline,\n"
          "                      latest, change and trend, GAD-7, item 9, open alerts, queue\n"
          "  session add (--weekday 1..7|mon..sun | --date YYYY-MM-DD) --time HH:MM\n"
          "              --minutes N [--psychiatrist USER_ID]\n"
          "                      a weekly case-review series (or one session)\n"
          "  session list [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--psychiatrist USER_ID]\n"
          "  session cancel SESSION_ID\n"
          "  queue add THREAD --reason CODE\n"
          "                      ask for the patient to be discussed at the case review\n"
          "  queue list [THREAD] where your patients stand on the case-review queue\n"
          "  queue agenda [--session SESSION_ID]\n"
          "                      a session's agenda and why each case is where it is\n"
          "  queue outcome THREAD --outcome CODE [--next-review YYYY-MM-DD]\n"
          "                      the outcome of a reviewed case and its next review\n"
          "  review minutes SESSION_ID --attended USER_ID...\n"
          "                      record who attended a held session\n"
          "  episode close THREAD --reason remission|referred|patient_choice|\n"
          "              lost_to_follow_up|inappropriate\n"
          "                      end the episode (leaves the queue, stops its time rules)\n"
          "  episode rp-plan THREAD --file PLAN.json [--date YYYY-MM-DD]\n"
          "                      send the relapse-prevention plan (encrypted): triggers,\n"
          "                      warning_signs, coping, supports, emergency\n"
          "  rec send THREAD (--file REC.json | --text TEXT --question TEXT\n"
          "              --data-basis TEXT --safety TEXT --contingency TEXT\n"
          "              --next-review YYYY-MM-DD) [--urgent] [--gp USER_ID]\n"
          "                      a structured recommendation to the thread's GP (encrypted;\n"
          "                      psychiatrists): acknowledgement due in 7 days, urgent 1\n"
          "                      business day\n"
          "  rec list [--state STATE] [--thread THREAD]\n"
          "                      the recommendations of your threads, newest first\n"
          "  rec show ID         the decrypted recommendation, its state and timeline\n"
          "  rec ack ID          acknowledge it (the addressed GP)\n"
          "  rec decide ID --decision accepted|modified|declined [--reason TEXT]\n"
          "                      the GP's decision (a reason is required but to accept;\n"
          "                      it is sent encrypted to the thread)\n"
          "  rec implemented ID  the GP has prescribed or ordered it\n"
          "  rec verify ID       the nurse confirmed it with the patient\n"
          "  rec amend ID (--file REC.json | --text ...) [--urgent]\n"
          "                      a new version (its author); the old one is kept\n"
          "  rec export ID --format xdm|fhir|pdf|eml --out FILE [--org-oid OID]\n"
          "              [--from ADDR --to ADDR]\n"
          "                      for the GP's software, built on this device: IHE XDM\n"
          "                      (CDA with the PDF letter), FHIR R4 Bundle, PDF, MSSante e-mail\n"
          "  thread card THREAD [--birth-name NAME --given-names NAMES --birth-date DATE\n"
          "              --sex F|M|U [--first-given NAME] [--used-name NAME] [--ins N\n"
          "              [--ins-kind nir|nia|nir-test|nia-test]] [--birth-place INSEE]]\n"
          "                      show (no option) or send the patient card (encrypted):\n"
          "                      the identity traits and INS the GP's software files by\n"
          "  safety-number USER_ID\n"
          "                      the 60-digit number to compare with that user\n"
          "  device link [--ttl SECONDS]\n"
          "                      a single-use code to enrol another device of your own user\n"
          "                      (default 10 minutes, 60..3600 s)\n"
          "  device fingerprint  this device's id and key fingerprint (to compare)\n"
          "  device share-history DEVICE_ID [--thread THREAD] [--yes]\n"
          "                      on an existing device: let your new device DEVICE_ID read\n"
          "                      the earlier messages (re-wraps their keys for it)\n"
          "  help                show this text\n"
          "\n"
          "Global options:\n"
          "  --home DIR     profile folder (default: $SESAME_HOME, else ~/.config/sesame)\n"
          "  --json         print exactly one JSON object (the server's reply) on stdout\n"
          "                 (follow: one object per line)\n"
          "  --timeout MS   connection and request timeout in milliseconds (default 10000)\n"
          "\n"
          "THREAD is a thread id or a unique prefix of one (at least 4 characters);\n"
          "ID an alert or recommendation id, or a unique prefix of one (at least 4).\n"
          "A P0 alert is never left to the daemon alone: phone the people concerned.\n"
          "\n"
          "Exit status: 0 success, 1 error reply from the server, 2 usage error,\n"
          "3 connection, TLS or timeout failure, 4 local file problem (e.g. not enrolled),\n"
          "6 verification failed: the audit log (audit verify, audit prove), or a roster\n"
          "or a message (thread, send, sync, follow).\n"
          "A scale with a wrong number of answers, an out-of-range answer or no answer at\n"
          "all is refused with BAD_SCALE (exit 2) and nothing is sent.\n",
          out);
}

/* Takes --home, --json and --timeout out of argv (anywhere); the rest stays in order in rest.
 * Returns 0 or CLI_EUSAGE (error printed). */
static int parse_globals(int argc, char **argv, struct cli *cli, char **rest, int *n_rest)
{
    *n_rest = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        int is_home = strcmp(a, "--home") == 0 || strncmp(a, "--home=", 7) == 0;
        int is_timeout = strcmp(a, "--timeout") == 0 || strncmp(a, "--timeout=", 10) == 0;
        if (strcmp(a, "--json") == 0) {
            cli->json = 1;
            continue;
        }
        if (!is_home && !is_timeout) {
            rest[(*n_rest)++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        if (eq != NULL)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return cli_usage_error(NULL, "option '%s' needs a value", a);
        if (is_home) {
            if (val[0] == '\0')
                return cli_usage_error(NULL, "--home needs a folder");
            cli->home_opt = val;
        } else {
            char *end = NULL;
            errno = 0;
            long ms = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || ms <= 0 || ms > 86400000L)
                return cli_usage_error(NULL, "--timeout needs milliseconds (1..86400000)");
            cli->timeout_ms = (int)ms;
        }
    }
    rest[*n_rest] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli = {NULL, 0, DEFAULT_TIMEOUT_MS, 0, NULL};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0, status;

    if (rest == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    if (sodium_init() < 0) {
        free(rest);
        return cli_error(CLI_ELOCAL, "cannot initialise libsodium");
    }
    status = parse_globals(argc, argv, &cli, rest, &n_rest);
    if (status != 0) {
        free(rest);
        return status;
    }
    const char *cmd = n_rest > 0 ? rest[0] : NULL;
    cli.argc = n_rest > 0 ? n_rest - 1 : 0;
    cli.argv = rest + 1;

    if (cmd == NULL || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        cli_print_usage(stdout);
        status = CLI_OK;
    } else if (strcmp(cmd, "enroll") == 0) {
        status = cmd_enroll(&cli);
    } else if (strcmp(cmd, "whoami") == 0) {
        status = cmd_whoami(&cli);
    } else if (strcmp(cmd, "admin") == 0) {
        status = cmd_admin(&cli);
    } else if (strcmp(cmd, "audit") == 0) {
        status = cmd_audit(&cli);
    } else if (strcmp(cmd, "thread") == 0) {
        if (cli.argc > 0 && strcmp(cli.argv[0], "meta") == 0) {
            cli.argc--;
            cli.argv++;
            status = cmd_thread_meta(&cli);
        } else if (cli.argc > 0 && strcmp(cli.argv[0], "card") == 0) {
            cli.argc--;
            cli.argv++;
            status = cmd_thread_card(&cli);
        } else {
            status = cmd_thread(&cli);
        }
    } else if (strcmp(cmd, "alert") == 0) {
        status = cmd_alert(&cli);
    } else if (strcmp(cmd, "scale") == 0) {
        status = cmd_scale(&cli);
    } else if (strcmp(cmd, "plan") == 0) {
        status = cmd_plan(&cli);
    } else if (strcmp(cmd, "contact") == 0) {
        status = cmd_contact(&cli);
    } else if (strcmp(cmd, "send") == 0) {
        status = cmd_send(&cli);
    } else if (strcmp(cmd, "sync") == 0) {
        status = cmd_sync(&cli);
    } else if (strcmp(cmd, "follow") == 0) {
        status = cmd_follow(&cli);
    } else if (strcmp(cmd, "directory") == 0) {
        status = cmd_directory(&cli);
    } else if (strcmp(cmd, "safety-number") == 0) {
        status = cmd_safety_number(&cli);
    } else if (strcmp(cmd, "device") == 0) {
        status = cmd_device(&cli);
    } else if (strcmp(cmd, "caseload") == 0) {
        status = cmd_caseload(&cli);
    } else if (strcmp(cmd, "session") == 0) {
        status = cmd_session(&cli);
    } else if (strcmp(cmd, "queue") == 0) {
        status = cmd_queue(&cli);
    } else if (strcmp(cmd, "review") == 0) {
        status = cmd_review(&cli);
    } else if (strcmp(cmd, "rec") == 0) {
        status = cmd_rec(&cli);
    } else if (strcmp(cmd, "episode") == 0) {
        status = cmd_episode(&cli);
    } else if (cmd[0] == '-') {
        status = cli_usage_error(NULL, "unknown option '%s'", cmd);
    } else {
        status = cli_usage_error(NULL, "unknown command '%s'", cmd);
    }
    free(rest);
    if (fflush(stdout) != 0 && status == CLI_OK)
        status = CLI_ELOCAL;
    return status;
}
