#!/usr/bin/env bash
# demo.sh - fills a freshly initialised, running sesamed with a demo territory through the real
# CLI: an admin, a nurse, a psychiatrist (on duty and program lead), two GPs and an auditor, each
# with a CLI profile in var/demo/ROLE, and twelve synthetic patients with six months of
# end-to-end encrypted history that cover every "needs attention" case (a positive item 9, not
# improving at 12 weeks, an overdue contact, improving, remission, relapse prevention, a closed
# episode, new patients), open alerts, a weekly case-review series and recommendations in
# several states. Every name says it is synthetic.
#
# Usage: scripts/demo.sh SERVER_URL CA_FILE ADMIN_CODE DEMO_DIR   (run.sh calls it on first run)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
server=$1 ca=$2 admin_code=$3 demo=$4
cli=${SESAME_CLI:-$top/build/clients/cli/sesame} # the CLI; tests pass their build's
mkdir -p "$demo"

# the value of key in the JSON object on stdin
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));const v=o[process.argv[1]];console.log(v===undefined||v===null?"":typeof v==="object"?JSON.stringify(v):v)' "$1"; }
as() { local who=$1; shift; "$cli" --home "$demo/$who" --json "$@"; }
day() { date -u -d "$1 days" +%Y-%m-%d; }

"$cli" --home "$demo/admin" --json enroll --server "$server" --ca "$ca" --code "$admin_code" \
  --name "demo admin CLI" >/dev/null

declare -A user
add_user() { # HOME ROLE NAME [SITE]
  local inv
  if [ -n "${4:-}" ]; then
    inv=$(as admin admin invite --role "$2" --name "$3" --site "$4")
  else
    inv=$(as admin admin invite --role "$2" --name "$3")
  fi
  user[$1]=$(jget user <<<"$inv")
  "$cli" --home "$demo/$1" --json enroll --server "$server" --ca "$ca" \
    --code "$(jget code <<<"$inv")" --name "demo $1 CLI" >/dev/null
}
add_user nurse nurse "Anne Martin (démo)" "Cabinet Voltaire (démo)"
add_user psy psychiatrist "Dr Hugo Roux (démo)"
add_user gp gp "Dr Claire Petit (démo)" "Cabinet Voltaire (démo)"
add_user gp2 gp "Dr Marc Blanc (démo)" "Maison de santé Jaurès (démo)"
add_user auditor auditor "Paul Audit (démo)"
as admin admin oncall set --on-duty-psychiatrist "${user[psy]}" --program-lead "${user[psy]}" >/dev/null
as psy session add --weekday tue --time 14:00 --minutes 60 >/dev/null

# PATIENT GP ENROLLED_DAYS_AGO -> the thread id in $thread
new_patient() {
  local out
  out=$(as nurse thread create --patient "$1" --title "Patient fictif $1 (démo)" \
    --member "${user[psy]}" --member "${user[$2]}")
  thread=$(jget thread <<<"$out")
  as nurse thread meta "$thread" --enrolled "$(day -"$3")" >/dev/null
}
# THREAD DAYS_AGO PHQ9 [GAD7]
scale() {
  if [ -n "${4:-}" ]; then
    as nurse scale record "$1" --phq9 "$3" --gad7 "$4" --date "$(day -"$2")" >/dev/null
  else
    as nurse scale record "$1" --phq9 "$3" --date "$(day -"$2")" >/dev/null
  fi
}
contact() { as nurse contact record "$1" --type "$3" --date "$(day -"$2")" >/dev/null; }

rec_file=$demo/rec-sample.json
cat >"$rec_file" <<JSON
{"question_code":"not_improving","question":"PHQ-9 toujours à 16 après 12 semaines de sertraline 50 mg (démo)",
 "data_basis":"PHQ-9 18 puis 16 en 12 semaines, observance bonne, pas d'effet indésirable (démo)",
 "safety":"Pas d'idées suicidaires : item 9 à 0 aux trois derniers contacts (démo)",
 "items":[{"type":"MED_DOSE_CHANGE","drug":"Sertraline","dose":"100 mg par jour","titration":"75 mg une semaine puis 100 mg"},
          {"type":"MONITORING","text":"PHQ-9 dans 4 semaines"}],
 "contingency":"Sans baisse de 5 points à 6 semaines : discuter un changement de molécule (démo)",
 "next_review":"$(day 28)"}
JSON

# 1. a positive item 9 today (A01, open)
new_patient DEMO-01 gp 40
scale "$thread" 40 "2,2,2,2,2,1,1,1,0" "2,2,1,1,1,1,1"
scale "$thread" 12 "2,2,2,2,2,2,1,1,1" "2,2,2,1,1,1,1"
scale "$thread" 0 "2,2,2,2,2,2,1,1,2" "2,2,2,2,1,1,1"
# 2. not improving at 12 weeks on an antidepressant, with a recommendation the GP declined
new_patient DEMO-02 gp 84
as nurse plan record "$thread" --date "$(day -84)" --antidepressant >/dev/null
as nurse thread card "$thread" --birth-name "FICTIVE-DEUX" --given-names "Marie Louise" \
  --birth-date 1980-01-05 --sex F --ins 280047512345658 --ins-kind nir-test >/dev/null
for d in 84 56 28 2; do scale "$thread" $d "3,3,2,2,2,2,2,2,0" "2,2,2,2,1,1,1"; done
as psy rec send "$thread" --file "$rec_file" >/dev/null
rec=$(as gp rec list --thread "$thread" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).recs[0].rec)')
as gp rec ack "$rec" >/dev/null
as gp rec decide "$rec" --decision declined --reason "Patiente préfère attendre le printemps (démo)" >/dev/null
# 3. last contact 35 days ago: overdue
new_patient DEMO-03 gp2 120
for d in 120 90 63 35; do scale "$thread" $d "2,2,1,1,1,1,1,1,0"; done
# 4. improving: 20 -> 8, with a recommendation accepted and implemented
new_patient DEMO-04 gp 100
as nurse plan record "$thread" --date "$(day -100)" --antidepressant >/dev/null
as nurse thread card "$thread" --birth-name "FICTIF-QUATRE" --given-names "Jean" \
  --birth-date 1975-06-30 --sex M --ins 175069912345628 --ins-kind nir-test >/dev/null
scale "$thread" 100 "3,3,3,2,2,2,2,2,0" "3,2,2,2,2,2,1"
scale "$thread" 70 "2,2,2,2,2,2,1,1,0"
scale "$thread" 42 "2,1,1,1,1,1,1,1,0"
scale "$thread" 7 "1,1,1,1,1,1,1,1,0" "1,1,1,1,1,0,0"
as psy rec send "$thread" --file "$rec_file" --gp "${user[gp]}" >/dev/null
rec=$(as gp rec list --thread "$thread" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).recs[0].rec)')
as gp rec ack "$rec" >/dev/null
as gp rec decide "$rec" --decision accepted >/dev/null
as gp rec implemented "$rec" >/dev/null
# 5. remission after six months
new_patient DEMO-05 gp2 182
scale "$thread" 182 "3,3,2,2,2,2,2,2,0"
for d in 154 126 98 70 42 14; do scale "$thread" $d "1,1,1,0,0,0,1,0,0"; done
# 6. relapse prevention
new_patient DEMO-06 gp 170
for d in 170 140 110 80 50 20; do scale "$thread" $d "1,0,1,0,1,0,0,0,0"; done
as nurse thread meta "$thread" --phase relapse_prevention >/dev/null
# 7. a closed episode (remission)
new_patient DEMO-07 gp2 180
for d in 180 120 60; do scale "$thread" $d "0,1,0,1,0,0,0,0,0"; done
as nurse episode close "$thread" --reason remission >/dev/null
# 8-9. new patients, not yet reviewed
new_patient DEMO-08 gp 3
scale "$thread" 3 "2,2,2,1,1,1,1,1,0" "2,2,1,1,1,1,0"
new_patient DEMO-09 gp2 10
scale "$thread" 10 "3,2,2,2,1,1,1,1,0"
contact "$thread" 4 phone
# 10. worsening, a recommendation still waiting for the GP
new_patient DEMO-10 gp 60
scale "$thread" 60 "1,1,1,1,1,1,1,0,0"
scale "$thread" 30 "2,2,1,1,1,1,1,1,0"
scale "$thread" 2 "3,3,2,2,2,2,2,2,0" "3,2,2,2,2,1,1"
as psy rec send "$thread" --file "$rec_file" --urgent >/dev/null
# 11. an item 9 left blank (ask it directly)
new_patient DEMO-11 gp2 50
scale "$thread" 50 "2,2,1,1,1,1,1,1,0"
scale "$thread" 1 "2,2,1,1,1,1,1,1,"
# 12. moderate, steady, regular contacts
new_patient DEMO-12 gp 140
for d in 140 112 84 56 28; do scale "$thread" $d "2,1,1,1,1,1,1,1,0"; contact "$thread" $((d - 14)) in_person; done
as nurse send "$thread" "Point hebdomadaire : sommeil meilleur, reprise du travail à mi-temps (démo)" >/dev/null

# the patients the psychiatrist has already reviewed: off the queue until their next review
for p in DEMO-03:21 DEMO-04:14 DEMO-05:35 DEMO-06:42 DEMO-12:28; do
  t=$(as nurse caseload | node -e 'const c=JSON.parse(require("fs").readFileSync(0,"utf8")).caseload;console.log(c.find(r=>r.patient===process.argv[1]).thread)' "${p%%:*}")
  as psy queue outcome "$t" --outcome CONTINUE --next-review "$(day "${p##*:}")" >/dev/null
done

printf '%s\n' "${!user[@]}" | while read -r who; do echo "$who=${user[$who]}"; done >"$demo/users.txt"
echo "demo territory ready: 6 users, 12 synthetic patients (profiles in $demo)"
