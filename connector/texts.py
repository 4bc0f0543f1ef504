"""What people read, in Dutch, French and English. Keys are shared; `text(lang, key, **values)`."""

from __future__ import annotations

from datetime import date

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "method": "Switching Talent",
        "kind.intro_call": "Kennismakingsgesprek",
        "kind.exchange_day": "Leeruitwisselingsdag",
        "kind.reflection": "Reflectiemoment",
        "kind.evaluation": "Evaluatie",
        "summary": "Switching Talent – {kind}: {place} ({host})",
        "about.intro_call": "Online kennismaking van ongeveer 20 minuten tussen switcher, leercoach en projectleider: we verhelderen de leervraag, bekijken wat de leerplek te bieden heeft en maken praktische afspraken (eerste datum, kledij, onthaal).",
        "about.exchange_day": "Een dag leren op de werkvloer van de ontvangende organisatie. Neem je leeragenda mee; op het einde van de dag blikken switcher en leercoach samen kort terug.",
        "about.reflection": "Reflectie op de leeruitwisseling: welke inzichten en leerlessen nemen switcher en leercoach mee?",
        "about.evaluation": "Evaluatie van de leeruitwisseling: wat leerde je, is je leervraag beantwoord, welke vervolgacties plan je?",
        "label.question": "Leervraag",
        "label.place": "Leerplek",
        "label.host": "Ontvangende organisatie",
        "label.coach": "Leercoach",
        "label.switcher": "Switcher",
        "label.sender": "Uitsturende werkgever",
        "label.where": "Waar",
        "label.online": "Online (de link volgt van de projectleider)",
        "label.contact": "Vragen? Contacteer {name} ({email}).",
        "record.title": "Leeruitwisseling Switching Talent bij {host}",
        "record.type": "leeruitwisseling",
        "cancel.comment": "Deze sessie van de leeruitwisseling gaat niet door. De projectleider neemt contact op voor een nieuwe afspraak.",
        "mail.request.subject": "Uitnodiging: {summary}",
        "mail.cancel.subject": "Geannuleerd: {summary}",
        "mail.request.intro": "Je bent uitgenodigd voor deze sessie van een Switching Talent-leeruitwisseling. De uitnodiging zit in deze e-mail: je agenda kan ze meteen opnemen.",
        "mail.cancel.intro": "Deze sessie van de Switching Talent-leeruitwisseling gaat niet door. Je agenda kan ze met deze e-mail verwijderen.",
        "mail.footer": "Dit bericht werd automatisch verstuurd door de Switching Talent Connector.",
        "kind.reminder": "Evaluatie, {after} na de leeruitwisseling",
        "about.reminder": "Tijd om terug te blikken: wat neem je mee uit de leeruitwisseling, wat pas je al toe en welke vervolgacties plan je? Switcher, leercoach en HR van de uitsturende werkgever krijgen dit moment.",
        "mail.reminder.subject": "Herinnering: {summary}",
        "mail.reminder-cancel.subject": "Vervalt: {summary}",
        "mail.reminder.intro": "Een herinnering van de Switching Talent-leeruitwisseling: tijd om terug te blikken.",
        "mail.reminder-cancel.intro": "Dit evaluatiemoment vervalt: de leeruitwisseling werd geannuleerd.",
        "mail.when": "Wanneer",
        "lb.title": "Leerbewijs",
        "lb.subtitle": "Leeruitwisseling volgens de methode Switching Talent",
        "lb.intro": "{partner} verklaart dat {switcher} van {sender} deelnam aan een leeruitwisseling op de werkvloer van {host}, als antwoord op de volgende leervraag:",
        "lb.number": "Nummer",
        "lb.issued": "Uitgereikt op",
        "lb.days": "Leeruitwisselingsdagen",
        "lb.date": "Datum",
        "lb.hours": "Uren",
        "lb.total": "Totaal",
        "lb.kind": "Informele opleiding (leren op de werkvloer), telt mee als opleiding in het kader van het individueel opleidingsrecht.",
        "lb.fingerprint": "Digitale vingerafdruk (SHA-256) van de inhoud",
        "lb.sign_partner": "Voor {partner}",
        "lb.sign_coach": "Leercoach",
        "lb.verify": "Digitaal ondertekend door {partner}. Controleer echtheid en inhoud: scan de QR-code, of open het PDF-bestand met st-connector leerbewijs verify.",
        "lb.code": "Controlecode",
        "ob.achievement": "Leeruitwisseling (Switching Talent)",
        "ob.description": "Informeel leren op de werkvloer van een andere organisatie, met een eigen leervraag en begeleid door een leercoach, volgens de methode Switching Talent.",
        "ob.criteria": "De switcher formuleerde een concrete leervraag, nam deel aan een kennismakingsgesprek en aan één of meer leeruitwisselingsdagen op de werkvloer van de ontvangende organisatie, begeleid door een leercoach. Het aantal uren staat in creditsEarned en bij elke dag in evidence.",
        "ob.evidence": "Leeruitwisselingsdag {date}",
        "ob.evidence_text": "{hours} uur op de werkvloer van {host} ({place})",
        "ob.narrative": "Leervraag: {question}",
        "lb.footer": "Dit leerbewijs werd opgemaakt door de Switching Talent Connector. Bewaar het bij het opleidingsdossier van de werknemer.",
    },
    "fr": {
        "method": "Switching Talent",
        "kind.intro_call": "Entretien de présentation",
        "kind.exchange_day": "Journée d'échange",
        "kind.reflection": "Moment de réflexion",
        "kind.evaluation": "Évaluation",
        "summary": "Switching Talent – {kind} : {place} ({host})",
        "about.intro_call": "Rencontre en ligne d'environ 20 minutes entre le switcher, le coach et le chef de projet : clarifier la question d'apprentissage, voir ce que le lieu d'apprentissage peut offrir et convenir des aspects pratiques (première date, tenue, accueil).",
        "about.exchange_day": "Une journée d'apprentissage sur le terrain de l'organisation d'accueil. Emportez votre agenda d'apprentissage ; en fin de journée, le switcher et le coach font un bref retour ensemble.",
        "about.reflection": "Réflexion sur l'échange : quels enseignements le switcher et le coach retiennent-ils ?",
        "about.evaluation": "Évaluation de l'échange : qu'avez-vous appris, votre question a-t-elle trouvé réponse, quelles suites allez-vous donner ?",
        "label.question": "Question d'apprentissage",
        "label.place": "Lieu d'apprentissage",
        "label.host": "Organisation d'accueil",
        "label.coach": "Coach",
        "label.switcher": "Switcher",
        "label.sender": "Employeur d'envoi",
        "label.where": "Lieu",
        "label.online": "En ligne (le lien suit de la part du chef de projet)",
        "label.contact": "Des questions ? Contactez {name} ({email}).",
        "record.title": "Échange d'apprentissage Switching Talent chez {host}",
        "record.type": "échange d'apprentissage",
        "cancel.comment": "Cette session de l'échange d'apprentissage est annulée. Le chef de projet vous recontactera.",
        "mail.request.subject": "Invitation : {summary}",
        "mail.cancel.subject": "Annulé : {summary}",
        "mail.request.intro": "Vous êtes invité(e) à cette session d'un échange d'apprentissage Switching Talent. L'invitation se trouve dans ce message : votre agenda peut l'ajouter directement.",
        "mail.cancel.intro": "Cette session de l'échange d'apprentissage Switching Talent est annulée. Votre agenda peut la retirer à partir de ce message.",
        "mail.footer": "Ce message a été envoyé automatiquement par le Switching Talent Connector.",
        "kind.reminder": "Évaluation, {after} après l'échange",
        "about.reminder": "Le moment de faire le point : que retenez-vous de l'échange, qu'appliquez-vous déjà et quelles suites prévoyez-vous ? Le switcher, le coach et les RH de l'employeur d'envoi reçoivent ce moment.",
        "mail.reminder.subject": "Rappel : {summary}",
        "mail.reminder-cancel.subject": "Annulé : {summary}",
        "mail.reminder.intro": "Un rappel de l'échange d'apprentissage Switching Talent : le moment de faire le point.",
        "mail.reminder-cancel.intro": "Ce moment d'évaluation est annulé : l'échange d'apprentissage a été annulé.",
        "mail.when": "Quand",
        "lb.title": "Attestation d'apprentissage",
        "lb.subtitle": "Échange d'apprentissage selon la méthode Switching Talent",
        "lb.intro": "{partner} atteste que {switcher}, de {sender}, a participé à un échange d'apprentissage sur le terrain de {host}, en réponse à la question d'apprentissage suivante :",
        "lb.number": "Numéro",
        "lb.issued": "Délivrée le",
        "lb.days": "Journées d'échange",
        "lb.date": "Date",
        "lb.hours": "Heures",
        "lb.total": "Total",
        "lb.kind": "Formation informelle (apprentissage sur le lieu de travail), comptabilisée dans le droit individuel à la formation.",
        "lb.fingerprint": "Empreinte numérique (SHA-256) du contenu",
        "lb.sign_partner": "Pour {partner}",
        "lb.sign_coach": "Coach",
        "lb.verify": "Signée numériquement par {partner}. Vérifiez l'authenticité et le contenu : scannez le code QR ou ouvrez le fichier PDF avec st-connector leerbewijs verify.",
        "lb.code": "Code de contrôle",
        "ob.achievement": "Échange d'apprentissage (Switching Talent)",
        "ob.description": "Apprentissage informel sur le lieu de travail d'une autre organisation, avec une question d'apprentissage propre et l'accompagnement d'un coach, selon la méthode Switching Talent.",
        "ob.criteria": "Le participant a formulé une question d'apprentissage concrète, a pris part à un entretien de présentation et à une ou plusieurs journées d'échange sur le terrain de l'organisation d'accueil, accompagné par un coach. Le nombre d'heures figure dans creditsEarned et pour chaque journée dans evidence.",
        "ob.evidence": "Journée d'échange du {date}",
        "ob.evidence_text": "{hours} heures sur le terrain de {host} ({place})",
        "ob.narrative": "Question d'apprentissage : {question}",
        "lb.footer": "Cette attestation a été établie par le Switching Talent Connector. Conservez-la dans le dossier de formation du travailleur.",
    },
    "en": {
        "method": "Switching Talent",
        "kind.intro_call": "Introductory call",
        "kind.exchange_day": "Exchange day",
        "kind.reflection": "Reflection",
        "kind.evaluation": "Evaluation",
        "summary": "Switching Talent – {kind}: {place} ({host})",
        "about.intro_call": "An online meeting of about 20 minutes between switcher, coach and project lead: we sharpen the learning question, look at what the learning place offers and agree on practicalities (first date, dress code, welcome).",
        "about.exchange_day": "A day of learning on the work floor of the host organisation. Bring your learning agenda; at the end of the day switcher and coach look back together briefly.",
        "about.reflection": "Reflection on the exchange: which insights and lessons do switcher and coach take away?",
        "about.evaluation": "Evaluation of the exchange: what did you learn, was your learning question answered, which follow-up actions do you plan?",
        "label.question": "Learning question",
        "label.place": "Learning place",
        "label.host": "Host organisation",
        "label.coach": "Coach",
        "label.switcher": "Switcher",
        "label.sender": "Sending employer",
        "label.where": "Where",
        "label.online": "Online (the project lead sends the link)",
        "label.contact": "Questions? Contact {name} ({email}).",
        "record.title": "Switching Talent learning exchange at {host}",
        "record.type": "learning exchange",
        "cancel.comment": "This session of the learning exchange is cancelled. The project lead will be in touch.",
        "mail.request.subject": "Invitation: {summary}",
        "mail.cancel.subject": "Cancelled: {summary}",
        "mail.request.intro": "You are invited to this session of a Switching Talent learning exchange. The invitation is in this e-mail: your calendar can add it straight away.",
        "mail.cancel.intro": "This session of the Switching Talent learning exchange is cancelled. Your calendar can remove it from this e-mail.",
        "mail.footer": "This message was sent automatically by the Switching Talent Connector.",
        "kind.reminder": "Evaluation, {after} after the exchange",
        "about.reminder": "Time to look back: what do you take away from the exchange, what do you already apply and which follow-up actions do you plan? Switcher, coach and the sending employer's HR receive this moment.",
        "mail.reminder.subject": "Reminder: {summary}",
        "mail.reminder-cancel.subject": "Called off: {summary}",
        "mail.reminder.intro": "A reminder from the Switching Talent learning exchange: time to look back.",
        "mail.reminder-cancel.intro": "This evaluation moment is called off: the learning exchange was cancelled.",
        "mail.when": "When",
        "lb.title": "Certificate of learning",
        "lb.subtitle": "Learning exchange following the Switching Talent method",
        "lb.intro": "{partner} certifies that {switcher} of {sender} took part in a learning exchange on the work floor of {host}, answering the following learning question:",
        "lb.number": "Number",
        "lb.issued": "Issued on",
        "lb.days": "Exchange days",
        "lb.date": "Date",
        "lb.hours": "Hours",
        "lb.total": "Total",
        "lb.kind": "Informal training (learning on the work floor); counts as training under the individual right to training.",
        "lb.fingerprint": "Digital fingerprint (SHA-256) of the content",
        "lb.sign_partner": "For {partner}",
        "lb.sign_coach": "Coach",
        "lb.verify": "Digitally signed by {partner}. Check authenticity and content: scan the QR code, or open the PDF file with st-connector leerbewijs verify.",
        "lb.code": "Check code",
        "ob.achievement": "Learning exchange (Switching Talent)",
        "ob.description": "Informal learning on the work floor of another organisation, with the learner's own learning question and a coach, following the Switching Talent method.",
        "ob.criteria": "The learner set a concrete learning question, took part in an introduction call and in one or more exchange days on the work floor of the host organisation, guided by a coach. The hours are in creditsEarned and per day in evidence.",
        "ob.evidence": "Exchange day {date}",
        "ob.evidence_text": "{hours} hours on the work floor of {host} ({place})",
        "ob.narrative": "Learning question: {question}",
        "lb.footer": "This certificate was drawn up by the Switching Talent Connector. Keep it with the employee's training file.",
    },
}

MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
}


def text(language: str, key: str, **values: object) -> str:
    table = TEXTS.get(language, TEXTS["nl"])
    return table[key].format(**values) if values else table[key]


def labelled(language: str, key: str, value: str) -> str:
    """French typography puts a space before the colon."""
    separator = " : " if language == "fr" else ": "
    return f"{text(language, key)}{separator}{value}"


UNITS = {
    "nl": {"d": ("dag", "dagen"), "w": ("week", "weken"), "m": ("maand", "maanden")},
    "fr": {"d": ("jour", "jours"), "w": ("semaine", "semaines"), "m": ("mois", "mois")},
    "en": {"d": ("day", "days"), "w": ("week", "weeks"), "m": ("month", "months")},
}


def offset_label(language: str, offset: object) -> str:
    """'2 maanden', '1 semaine', '6 months' for an Offset (amount and unit)."""
    amount, unit = getattr(offset, "amount"), getattr(offset, "unit")
    singular, plural = UNITS.get(language, UNITS["nl"])[unit]
    return f"{amount} {singular if amount == 1 else plural}"


def long_date(language: str, day: date) -> str:
    month = MONTHS.get(language, MONTHS["nl"])[day.month - 1]
    return f"{month} {day.day}, {day.year}" if language == "en" else f"{day.day} {month} {day.year}"


def belgian_number(value: float, decimals: int = 2) -> str:
    """7,5 rather than 7.5 in documents people file; whole numbers without decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{decimals}f}".rstrip("0").replace(".", ",")
