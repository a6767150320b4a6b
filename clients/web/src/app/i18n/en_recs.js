// en_recs.js - English labels of the recommendation screens (the GP's inbox and exports, the
// nurse's verification) and the quality indicators. Every key here exists in the other language (a
// node test checks).
export default {
};
