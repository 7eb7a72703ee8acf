package ujet

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"switchboard"
)

// BenchmarkChatList is GET /chats?per=100 over HTTP on a company with 2,000
// chats (each with its agent): the page and its headers.
func BenchmarkChatList(b *testing.B) {
	w := newChatWorld(b)
	ctx := context.Background()
	for i := range 2000 {
		cv, _, err := w.conv.Start(ctx, w.tenant.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat, QueueID: &w.chatQueue.ID,
			EndUser: switchboard.EndUser{Identifier: "bench-" + strconv.Itoa(i)}}, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := w.conv.Send(ctx, w.tenant.ID, cv.ID, switchboard.ConversationMessage{Direction: switchboard.Outbound,
				Kind: switchboard.KindText, Text: "hi", AgentID: &w.agent.ID}); err != nil {
				if _, err := w.conv.Finish(ctx, w.tenant.ID, cv.ID, switchboard.SideSystem, ""); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", w.url+"/apps/api/v1/chats?per=100&page=3", nil)
		req.SetBasicAuth(w.tenant.Slug, w.key)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%v %v", res, err)
		}
		res.Body.Close()
	}
}
