// en_review.js - English labels of the weekly case review screens (psychiatrist's agenda, case,
// outcome, recommendation form, sessions, minutes; the nurse's queue). Every key here exists in
// the other language (a node test checks).
export default {
};
