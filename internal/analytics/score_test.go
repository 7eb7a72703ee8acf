package analytics

import (
	"slices"
	"testing"

	"switchboard"
)

func seg(who switchboard.Speaker, start, end float64, text string) switchboard.TranscriptSegment {
	return switchboard.TranscriptSegment{Speaker: who, Start: start, End: end, Text: text}
}

const (
	cust  = switchboard.SpeakerCustomer
	agent = switchboard.SpeakerAgent
	unk   = switchboard.SpeakerUnknown
)

func TestSentiment(t *testing.T) {
	for text, want := range map[string]int{
		"":                                    50,
		"great thanks":                        75, // 50 + 50·2/4
		"this is terrible and broken":         25,
		"that is not good":                    33, // negated: 50 − 50/3
		"it isn't broken":                     67, // a contraction's negation
		"I don't have a problem, it's great.": 50, // a word between: problem −1, great +1
	} {
		if got := sentiment(normalise(text)); got != want {
			t.Errorf("sentiment(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestAnalyse(t *testing.T) {
	tr := switchboard.Transcript{Duration: 10, Segments: []switchboard.TranscriptSegment{
		seg(cust, 0, 2, "Hi, I'm calling about a charge I don't recognise."),
		seg(agent, 2, 4, "Thank you for calling. How can I help? I'm sorry about that."),
		seg(cust, 4, 6, "Okay."),
		seg(agent, 6, 8, "I've issued a refund. Anything else? Have a great day!"),
		seg(cust, 8, 9, "Great, thanks, that's helpful."),
	}}
	r := Analyse(tr)
	if r.Summary != "Customer: Hi, I'm calling about a charge I don't recognise. Agent: I've issued a refund. Anything else? Have a great day!" {
		t.Errorf("summary %q", r.Summary)
	}
	p := r.Parts
	// Customer words: great, thanks, helpful → 50 + 50·3/5 = 80.
	if p.Sentiment != 80 {
		t.Errorf("sentiment %d, want 80", p.Sentiment)
	}
	// Agent 4 s of 9 s of speech: 0.444, within 35-65 %.
	if p.TalkRatio == nil || *p.TalkRatio != 100 || *p.AgentTalkShare != 0.444 {
		t.Errorf("talk ratio %v share %v, want 100 and 0.444", p.TalkRatio, p.AgentTalkShare)
	}
	// One second of ten silent: 10 % → 100.
	if p.SilenceShare != 0.1 || p.Silence != 100 {
		t.Errorf("silence %d (share %v), want 100 (0.1)", p.Silence, p.SilenceShare)
	}
	if want := []string{"greeting", "offer_help", "empathy", "anything_else", "closing"}; !slices.Equal(p.KeywordsHit, want) || p.Keywords != 100 {
		t.Errorf("keywords %d %v, want 100 %v", p.Keywords, p.KeywordsHit, want)
	}
	// (40·80 + 20·100 + 20·100 + 20·100) / 100 = 92.
	if r.Score != 92 {
		t.Errorf("score %d, want 92", r.Score)
	}

	// A monologue with long silences and no agent words scores low; the
	// same words unlabelled drop the talk ratio and read all text.
	mono := switchboard.Transcript{Duration: 20, Segments: []switchboard.TranscriptSegment{
		seg(cust, 0, 5, "This is terrible, the service is broken and useless."),
	}}
	r = Analyse(mono)
	if r.Parts.TalkRatio == nil || *r.Parts.TalkRatio != 0 || r.Parts.Silence != 0 || r.Parts.Keywords != 0 {
		t.Errorf("a monologue's parts: %+v", r.Parts)
	}
	// Sentiment 50 − 50·3/5 = 20; (40·20 + 0 + 0 + 0)/100 = 8.
	if r.Score != 8 || r.Summary != "Customer: This is terrible, the service is broken and useless." {
		t.Errorf("a monologue: score %d summary %q", r.Score, r.Summary)
	}
	mono.Segments[0].Speaker = unk
	r = Analyse(mono)
	if r.Parts.TalkRatio != nil || r.Parts.AgentTalkShare != nil {
		t.Errorf("unlabelled speech has a talk ratio: %+v", r.Parts)
	}
	if r.Score != 10 { // (40·20 + 20·0 + 20·0) / 80
		t.Errorf("unlabelled score %d, want 10", r.Score)
	}
	if r.Summary != "This is terrible, the service is broken and useless." {
		t.Errorf("unlabelled summary %q", r.Summary)
	}
	if r := Analyse(switchboard.Transcript{}); r.Summary != "" || r.Parts.SilenceShare != 1 || r.Parts.Sentiment != 50 {
		t.Errorf("an empty transcript: %+v", r)
	}
}

func TestSummariseFallsBackToFirstAndLastLines(t *testing.T) {
	got := Summarise([]switchboard.TranscriptSegment{
		seg(agent, 0, 1, "Hello."), seg(cust, 1, 2, "Hi there."), seg(agent, 2, 3, "Okay then."), seg(cust, 3, 4, "Bye."),
	})
	if got != "Customer: Hi there. Agent: Okay then." {
		t.Errorf("summary %q", got)
	}
}
