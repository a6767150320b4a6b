// fr.js - les libellés français du client web. Chaque clé existe aussi dans en.js.
export default {
  'app.name': 'Sésame',
  'app.synthetic': 'Données de démonstration : patients fictifs uniquement',
  'lang.label': 'Langue',
  'conn.connecting': 'Connexion…',
  'conn.online': 'Connecté',
  'conn.offline': 'Hors ligne : nouvel essai dans {seconds} s',
  'conn.pending': '{count} en attente d’envoi',
  'enrol.title': 'Enregistrer ce navigateur',
  'enrol.intro':
    'Ce navigateur devient l’un de vos appareils, comme un téléphone ou un PC. Ses clés restent ici.',
  'enrol.name': 'Nom de cet appareil',
  'enrol.submit': 'Enregistrer',
  'enrol.no_code': 'Ouvrez le lien d’enregistrement que l’on vous a remis : il contient votre code.',
  'enrol.done': 'Enregistré en tant que {name} ({role}).',
  'device.warning':
    'Effacer les données de ce site dans le navigateur supprime cet appareil et ses clés. ' +
    'Votre historique ne revient que par « partager l’historique » depuis un autre de vos appareils.',
  'signout': 'Se déconnecter (garde cet appareil)',
  'error.generic': 'Une erreur est survenue : {code}',
  'role.admin': 'administrateur',
  'role.nurse': 'infirmière',
  'role.psychiatrist': 'psychiatre',
  'role.gp': 'médecin généraliste',
  'role.auditor': 'auditeur',
};
