package voiso

import (
	"unicode/utf16"

	"switchboard"
)

// channelType is the type of a conversation's channel object: Voiso calls
// its web chat "chat" there (the message webhook's example), while record
// subtypes keep the legacy channel names (web_chat, whatsapp …), which are
// the core's.
func channelType(c switchboard.ConversationChannel) string {
	if c == switchboard.ChannelWebChat {
		return "chat"
	}
	return string(c)
}

// conversationStatus is Voiso's legacy two-valued status: active until the
// conversation ends, archived after.
func conversationStatus(s switchboard.ConversationStatus) string {
	if s.Ended() {
		return "archived"
	}
	return "active"
}

// messageStatus renders a message's receipt status in Voiso's vocabulary
// (initial, accepted, waiting, ready, sent, delivered, seen, failed): a
// message the end user sent is accepted, as the message.received webhook's
// example shows; one waiting for its provider is waiting; read is seen.
func messageStatus(s switchboard.ReceiptStatus) string {
	switch s {
	case switchboard.ReceiptQueued:
		return "waiting"
	case switchboard.ReceiptSent:
		return "sent"
	case switchboard.ReceiptDelivered:
		return "delivered"
	case switchboard.ReceiptRead:
		return "seen"
	case switchboard.ReceiptFailed:
		return "failed"
	case switchboard.ReceiptReceived:
		return "accepted"
	}
	return "initial"
}

// contentType renders a message's kind as Voiso's content_type: media are
// image, video or document, as the legacy channels name them; an activity
// line is a notification (web chat's word); a note is text.
func contentType(k switchboard.MessageKind) string {
	switch k {
	case switchboard.KindPhoto:
		return "image"
	case switchboard.KindVideo:
		return "video"
	case switchboard.KindFile:
		return "document"
	case switchboard.KindTemplate:
		return "template"
	case switchboard.KindActivity:
		return "notification"
	}
	return "text"
}

// messageActivity says what a transcript line is: a message exchanged with
// the end user, an agents' note, or a system line.
func messageActivity(k switchboard.MessageKind) string {
	switch k {
	case switchboard.KindNote:
		return "note"
	case switchboard.KindActivity:
		return "system"
	}
	return "message"
}

// gsm7 is the GSM 03.38 default alphabet (one septet each) and gsm7Ext its
// extension table (an escape and a septet each): a text made of these
// alone is sent in 7-bit segments, anything else in UCS-2.
var (
	gsm7    = runeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsm7Ext = runeSet("\f^{}\\[~]|€")
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// smsSegments is how many SMS a text takes: 160 septets in one GSM-7
// message or 153 per part of a longer one; 70 UTF-16 units in one UCS-2
// message or 67 per part. Voiso's v1 answered the count; the carrier bills
// by it.
func smsSegments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case gsm7[r]:
			septets++
		case gsm7Ext[r]:
			septets += 2
		default:
			gsm = false
		}
	}
	single, part, n := 160, 153, septets
	if !gsm {
		single, part, n = 70, 67, len(utf16.Encode([]rune(body)))
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}
