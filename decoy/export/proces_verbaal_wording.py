"""The wording of the proces-verbaal van bevindingen (decoy/export/proces_verbaal.py) in Dutch and English.

Legal text with a fixed form rather than a screen's translation: the oath clause and the closing formula
follow the standard Dutch proces-verbaal, and the English is their faithful equivalent. Values filled in
are made safe for the PDF by the caller.
"""

from __future__ import annotations

LANGUAGES = ("nl", "en")

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Proces-verbaal van bevindingen",
        "footer": "Proces-verbaal van bevindingen, contact {contact} (concept)",
        "page": "pagina",
        "draft": "Concept, opgemaakt met Decoy op {now}. Het wordt buiten Decoy ondertekend; de "
        "ondertekende versie wordt als PDF bij het contact bewaard.",
        "operation": "Onderzoek",
        "team": "Team",
        "contact": "Contact",
        "zone": "Tijdzone",
        "oath": "Ik, verbalisant {code}, verklaar op ambtseed/ambtsbelofte het volgende.",
        "shield": "Ik word in dit proces-verbaal uitsluitend aangeduid met mijn verbalisantnummer; mijn "
        "identiteit is afgeschermd en bij de politie vastgelegd.",
        "h_basis": "Grondslag",
        "basis": "Het lokprofiel werd ingezet onder de machtiging met kenmerk {reference}, op grond van "
        "{basis}, afgegeven door {authority}, geldig van {start} tot {end}.",
        "h_findings": "Bevindingen",
        "findings": "In het onderzoek {operation} was het lokprofiel {handle} op het platform {platform} "
        "in gebruik (profiel {profile}). Via dit profiel kwam contact tot stand met de gebruiker "
        "{counterpart} (contact {contact}), voor het eerst waargenomen op {first_seen}.",
        "counts": "Het gesprek bestaat uit {total}: {incoming} van de gebruiker, {outgoing} van het "
        "lokprofiel en {system} van het platform, met platformtijden van {first} tot en met {last}.",
        "messages": "{count} bericht|{count} berichten",
        "notices": "{count} melding|{count} meldingen",
        "no_messages": "Van dit contact zijn geen berichten vastgelegd.",
        "zone_note": "Tijden staan in de tijdzone {zone}; de tijd die het platform gaf, staat met zijn "
        "verschuiving ten opzichte van UTC vermeld.",
        "h_capture": "Wijze van vastlegging",
        "typed": "Handmatig in Decoy ingevoerd, buiten een vastlegsessie: {count}.",
        "sessions": "Vastgelegd tijdens vastlegsessies, waarin één verbalisant het profiel bediende: "
        "{count}.",
        "imports": "Ingelezen uit de export die het platform zelf van het gesprek maakte: {count}.",
        "integrity": "Bij het vastleggen van elk bericht heeft Decoy de SHA-256-hashwaarde van de tekst en "
        "van de bijlagen opgenomen in het audit-log, waarin elke latere wijziging aantoonbaar is.",
        "session": "Sessie",
        "session_how": "Bediening en periode",
        "statement": "Verklaring van volledigheid",
        "operated": "bediend door {officer} op {device} met {tool}, van {start} tot {end}",
        "open": "nog niet beëindigd",
        "gaps": "Bekende hiaten: {gaps}",
        "no_gaps": "geen genoemd",
        "import": "Import",
        "file": "Bestand en hashwaarde",
        "imported_at": "Ingelezen",
        "imported_by": "{at} door {officer}",
        "h_initiative": "Initiatief",
        "initiative": "Wie elk onderwerp als eerste ter sprake bracht, naar de tijd van het platform, "
        "volgens de bevestigde annotaties van de verbalisanten; suggesties van de woordenlijst tellen niet "
        "mee.",
        "topic": "Onderwerp",
        "first_by": "Eerst ter sprake gebracht door",
        "when": "Tijdstip en bericht",
        "decoy": "het lokprofiel",
        "counterpart": "de gebruiker",
        "not_annotated": "niet geannoteerd",
        "age": " (leeftijd {age})",
        "message": "bericht {id}",
        "age_to_meeting": "Tijd van de eerste genoemde leeftijd tot het eerste voorstel voor een "
        "ontmoeting: {duration}.",
        "duration": "{hours} u {minutes} min",
        "days": "{days} d ",
        "no_initiative": "Er zijn geen onderwerpen geannoteerd; een overzicht van het initiatief is er nog "
        "niet.",
        "h_flags": "Signaleringen",
        "flags": "Decoy heeft bij dit contact de volgende signaleringen vastgesteld:",
        "no_flags": "Decoy heeft bij dit contact geen signaleringen vastgesteld.",
        "flagged": "Signaleringen bij afzonderlijke berichten staan in het gesprek bij het bericht "
        "({count}).",
        "h_conversation": "Het gesprek",
        "number": "Nr.",
        "meta": "Richting, tijden, vastlegging",
        "body": "Tekst en bijlagen",
        "in": "van de gebruiker",
        "out": "van het lokprofiel",
        "system": "melding van het platform",
        "platform_time": "platformtijd",
        "local_time": "tijd",
        "recorded": "vastgelegd {at} door {officer}",
        "corrects": "verbetert bericht {id}",
        "in_session": "in vastlegsessie {id}, bediend door {officer}",
        "imported": "ingelezen (import {id}, {source})",
        "attachment": "bijlage {sha256} ({size} bytes, {media_type})",
        "empty": "(leeg)",
        "continued": "bericht {id}, vervolg",
        "signalled": "Signalering: {flags}",
        "h_hashes": "Hashwaarden (SHA-256)",
        "hashes": "Met deze hashwaarden kan de tekst van elk bericht en elk bestand worden vergeleken met "
        "het audit-log en met een exportbundel van Decoy.",
        "text_hash": "SHA-256 van de tekst",
        "files": "Bestanden",
        "size_kind": "Grootte en soort",
        "size": "{size} bytes, {media_type}",
        "h_log": "Audit-log",
        "checkpoint": "Het laatste ondertekende controlepunt van het audit-log bij het opmaken van dit "
        "concept: omvang {size}, roothash {root}, gemaakt op {at}.",
        "no_checkpoint": "Er was nog geen ondertekend controlepunt van het audit-log.",
        "closing": "Waarvan door mij, verbalisant {code}, is opgemaakt dit proces-verbaal, dat ik sloot en "
        "ondertekende op ambtseed/ambtsbelofte te {blank} op {blank}.",
        "place_date": "Plaats en datum",
        "signature": "Handtekening verbalisant {code}",
        "no_code": "verbalisant zonder nummer",
    },
    "en": {
        "title": "Official report of findings",
        "footer": "Official report of findings, contact {contact} (draft)",
        "page": "page",
        "draft": "Draft made with Decoy on {now}. It is signed outside Decoy; the signed version is kept "
        "with the contact as a PDF.",
        "operation": "Operation",
        "team": "Team",
        "contact": "Contact",
        "zone": "Time zone",
        "oath": "I, reporting officer {code}, state on my oath of office or affirmation the following.",
        "shield": "I am named in this report by my reporting officer's code only; my identity is shielded "
        "and on record with the police.",
        "h_basis": "Legal basis",
        "basis": "The decoy profile was used under the authorization with reference {reference}, on the "
        "basis of {basis}, issued by {authority}, valid from {start} until {end}.",
        "h_findings": "Findings",
        "findings": "In operation {operation} the decoy profile {handle} on the platform {platform} was in "
        "use (profile {profile}). Through this profile the user {counterpart} made contact (contact "
        "{contact}), first seen at {first_seen}.",
        "counts": "The conversation holds {total}: {incoming} from the user, {outgoing} from the decoy "
        "profile and {system} from the platform, with platform times from {first} to {last}.",
        "messages": "{count} message|{count} messages",
        "notices": "{count} notice|{count} notices",
        "no_messages": "No messages of this contact were recorded.",
        "zone_note": "Times are shown in the time zone {zone}; the time the platform gave is shown with its "
        "offset from UTC.",
        "h_capture": "How the messages were recorded",
        "typed": "Typed into Decoy by hand, outside a capture session: {count}.",
        "sessions": "Recorded in capture sessions, in which one officer operated the profile: {count}.",
        "imports": "Read from the export the platform itself made of the conversation: {count}.",
        "integrity": "When it recorded each message, Decoy entered the SHA-256 hash of its text and of its "
        "attachments in the audit log, in which any later change can be detected.",
        "session": "Session",
        "session_how": "Operated and when",
        "statement": "Completeness statement",
        "operated": "operated by {officer} on {device} with {tool}, from {start} until {end}",
        "open": "not ended yet",
        "gaps": "Known gaps: {gaps}",
        "no_gaps": "none stated",
        "import": "Import",
        "file": "File and hash",
        "imported_at": "Imported",
        "imported_by": "{at} by {officer}",
        "h_initiative": "Initiative",
        "initiative": "Who raised each topic first, by the platform's time, from the officers' confirmed "
        "annotations; suggestions of the word list do not count.",
        "topic": "Topic",
        "first_by": "First raised by",
        "when": "When, message",
        "decoy": "the decoy profile",
        "counterpart": "the user",
        "not_annotated": "not annotated",
        "age": " (age {age})",
        "message": "message {id}",
        "age_to_meeting": "From the first stated age to the first proposed meeting: {duration}.",
        "duration": "{hours} h {minutes} min",
        "days": "{days} d ",
        "no_initiative": "No topic has been annotated; there is no initiative sheet yet.",
        "h_flags": "Flags",
        "flags": "Decoy raised the following flags on this contact:",
        "no_flags": "Decoy raised no flags on this contact.",
        "flagged": "Flags of single messages are shown with the message in the conversation ({count}).",
        "h_conversation": "The conversation",
        "number": "No.",
        "meta": "Direction, times, recording",
        "body": "Text and attachments",
        "in": "from the user",
        "out": "from the decoy profile",
        "system": "platform notice",
        "platform_time": "platform time",
        "local_time": "time",
        "recorded": "recorded {at} by {officer}",
        "corrects": "corrects message {id}",
        "in_session": "in capture session {id}, operated by {officer}",
        "imported": "imported (import {id}, {source})",
        "attachment": "attachment {sha256} ({size} bytes, {media_type})",
        "empty": "(empty)",
        "continued": "message {id}, continued",
        "signalled": "Flag: {flags}",
        "h_hashes": "Hashes (SHA-256)",
        "hashes": "These hashes let the text of every message and every file be compared with the audit log "
        "and with an evidence bundle of Decoy.",
        "text_hash": "SHA-256 of the text",
        "files": "Files",
        "size_kind": "Size and type",
        "size": "{size} bytes, {media_type}",
        "h_log": "Audit log",
        "checkpoint": "The latest signed checkpoint of the audit log when this draft was made: size {size}, "
        "root hash {root}, made at {at}.",
        "no_checkpoint": "The audit log had no signed checkpoint yet.",
        "closing": "Of which I, reporting officer {code}, drew up this official report, which I closed and "
        "signed on my oath of office or affirmation at {blank} on {blank}.",
        "place_date": "Place and date",
        "signature": "Signature of reporting officer {code}",
        "no_code": "officer without a code",
    },
}
#: The topics of the initiative sheet, in its order.
TOPICS = {
    "nl": {
        "age_stated": "Leeftijd genoemd",
        "sexual_topic": "Seksueel onderwerp",
        "meeting_proposed": "Ontmoeting voorgesteld",
        "payment_offered": "Betaling aangeboden",
        "image_requested": "Beeld gevraagd",
        "image_sent": "Beeld verstuurd",
    },
    "en": {
        "age_stated": "Age stated",
        "sexual_topic": "Sexual topic",
        "meeting_proposed": "Meeting proposed",
        "payment_offered": "Payment offered",
        "image_requested": "Image requested",
        "image_sent": "Image sent",
    },
}
