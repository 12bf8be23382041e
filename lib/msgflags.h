/* msgflags.h - bounce, auto-reply, out-of-office and mailing-list flags.
 *
 * The flags say what kind of sending a message is, beside its class: a
 * bounce or an out-of-office never reopens a conversation nor counts as a
 * customer's answer, and bulk mail from a stranger is a newsletter. They
 * are read from the parsed message, its envelope sender and, through an
 * optional struct hdrlookup, a few fields mp_message does not keep.
 *
 * Matching is ASCII case-insensitive; the phrases with umlauts match as
 * written. "Subject starts with" means after leading blanks: a "Re:" or
 * "Fwd:" in front is a person talking about such a message, not one.
 *
 * MSGFLAG_BOUNCE - a delivery status notification (failure, delay or
 * success: none of them is a person's answer). Any one of:
 *   B1 Content-Type multipart/report; report-type=delivery-status (RFC 3464)
 *   B2 an X-Failed-Recipients (Exim) or X-MS-Exchange-Message-Is-Ndr
 *      (Exchange) field, through the lookup
 *   B3 From's local part is MAILER-DAEMON
 *   B4 the null sender (envelope "" or "<>"; without an envelope, a
 *      Return-Path of <>) and a mail server's bounce sender as From: local part
 *      postmaster, mail-daemon or MicrosoftExchange<hex>, or display name
 *      "Mail Delivery System", "Mail Delivery Subsystem", "Mail Delivery
 *      Service", "Mail Administrator", "Microsoft Outlook"
 *   B5 the subject starts with a mail server's bounce subject: "Undelivered Mail
 *      Returned to Sender", "Undeliverable:", "Undeliverable mail",
 *      "Undeliverable message", "Unzustellbar:", "Nicht zustellbar",
 *      "Delivery Status Notification", "Mail delivery failed", "Returned
 *      mail:", "Delivery has failed", "Delivery Failure", "Delivery
 *      Notification: Delivery has failed", "Warning: could not send
 *      message", "Mail could not be delivered", "Non remis", "Onbestelbaar:";
 *      or is exactly "failure notice" (qmail)
 *   B6 the body text starts with a mail server's bounce opening: "Hi. This is
 *      the qmail-send program", "This is the mail system at host"
 *      (Postfix), "This message was created automatically by mail delivery
 *      software" (Exim), "The original message was received at" (Sendmail),
 *      "Delivery has failed to these recipients or groups", "Your message
 *      did not reach some or all of the intended recipients" (Exchange),
 *      "Fehler bei der Übermittlung an folgende Empfänger oder Gruppen"
 *      (Exchange, German), "This is an automatically generated Delivery
 *      Status Notification"
 *
 * MSGFLAG_AUTO_REPLY - sent by software on its own, not typed by a person.
 * Strong signals, any one suffices:
 *   A1 Auto-Submitted present and not "no" (auto-replied, auto-generated,
 *      auto-notified; RFC 3834)
 *   A2 X-Autoreply present (not "no"), or X-Autorespond present through the
 *      lookup
 *   A3 Precedence: auto_reply
 *   A4 the subject starts with a responder's tag followed by ":" or the
 *      end: "Automatic reply", "Automatische Antwort", "Out of Office
 *      AutoReply", "Auto-Reply", "Auto Reply", "AutoReply", "Auto-Response",
 *      "Auto Response", "Autoresponse", "Automatic response", "Réponse
 *      automatique", "Risposta automatica", "Automatisch antwoord",
 *      "Respuesta automática", "Automatisk svar"
 *   A5 multipart/report; report-type=disposition-notification (a read
 *      receipt, RFC 8098)
 * Weak signals count only in these pairs:
 *   S  the subject starts with an absence phrase, a whole word: "Out of
 *      office", "Out of the office", "Abwesenheitsnotiz", "Abwesenheit",
 *      "Abwesend", "Away from the office", "Away from office", "On
 *      vacation", "Vacation reply", "Urlaub", "Nicht im Büro", "Außer Haus"
 *   T  the first 1024 bytes of the new text hold an absence phrase ("out
 *      of the office", "out of office", "on vacation", "on holiday",
 *      "annual leave", "limited access to e-mail", "I will be back", "nicht
 *      im Büro", "wieder im Büro", "außer Haus", "abwesend", "im Urlaub",
 *      "eingeschränkt erreichbar", "wieder erreichbar", …)
 *   X  X-Auto-Response-Suppress holds All, OOF or AutoReply (Exchange puts
 *      it on its auto-replies, but also on other mail it sends)
 *   P  Precedence bulk or junk (vacation programs set them)
 *   N  the null sender (RFC 3834 asks responders to use it)
 *   auto-reply when S+X, S+P, S+N, S+T or T+N. So a person's mail whose
 *   subject merely mentions being out of office ("Re: Out of office next
 *   week?", "Question about your out of office note"), or starts with it
 *   but carries no other signal, is not an auto-reply; nor is a person's
 *   mail that says "I will be out of the office" in its text. A person who
 *   announces their own absence in both subject and text (S+T) is taken
 *   for an absence notice: that is what client-side responders without
 *   any header send, and such a mail answers nothing either.
 * Auto-Submitted: no is the sender's software saying the message is not
 * automatic: it cancels every auto-reply and out-of-office signal above.
 * A bounce may be an auto-reply as well (Postfix marks its bounces
 * Auto-Submitted: auto-replied): the flags are independent.
 *
 * MSGFLAG_OUT_OF_OFFICE - an auto-reply that reports an absence: an
 * auto-reply with S, T, or the tag "Out of Office AutoReply". It always
 * comes with MSGFLAG_AUTO_REPLY. "Automatic reply:" alone is not enough:
 * Exchange uses it for every rule-based answer too.
 *
 * MSGFLAG_MAILING_LIST - bulk or list mail: List-Id, List-Unsubscribe or
 * Feedback-ID present, or Precedence bulk or list. Precedence bulk alone
 * does not count on a bounce or an auto-reply: responders set it too.
 */
#ifndef MAILROOM_MSGFLAGS_H
#define MAILROOM_MSGFLAGS_H

#include <stddef.h>

#include "hdrlookup.h"
#include "mimeparse.h"

#define MSGFLAG_BOUNCE        0x1u
#define MSGFLAG_AUTO_REPLY    0x2u
#define MSGFLAG_OUT_OF_OFFICE 0x4u
#define MSGFLAG_MAILING_LIST  0x8u

/* msgflags_detect - the flags of m. envelope_from is the SMTP MAIL FROM
 * with or without <> ("" or "<>" for the null sender), NULL when unknown;
 * more may be NULL. why gets the signals that fired, e.g. "bounce:
 * multipart/report report-type=delivery-status; list: List-Id" ("" when
 * none), cut to whylen. */
unsigned msgflags_detect(const struct mp_message *m, const char *envelope_from, const struct hdrlookup *more,
                         char *why, size_t whylen);
/* msgflags_format - the flags as "bounce,auto-reply,out-of-office,list" ("" for none) in buf */
const char *msgflags_format(unsigned flags, char *buf, size_t len);

#endif
