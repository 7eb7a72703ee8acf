package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// BenchmarkAddMessage measures appending a message to a conversation on
// SQLite (the seq taken from the conversation's row, the row written back,
// the message.* event): serial into one conversation, and from 16
// goroutines into one conversation each, sharing group commits.
func BenchmarkAddMessage(b *testing.B) {
	ctx := context.Background()
	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	open := func(b *testing.B) int64 {
		id := fmt.Sprintf("visitor-%d", n.Add(1))
		c, _, err := db.CreateConversation(ctx, tn.ID, switchboard.Conversation{Channel: switchboard.ChannelWebChat,
			Status: switchboard.ConversationInProgress, Address: id, EndUser: switchboard.EndUser{Identifier: id}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		return c.ID
	}
	msg := func(conv int64) switchboard.ConversationMessage {
		return switchboard.ConversationMessage{ConversationID: conv, Direction: switchboard.Inbound, Kind: switchboard.KindText,
			Text: "Hello, I have a question about my order"}
	}
	b.Run("serial", func(b *testing.B) {
		conv := open(b)
		for b.Loop() {
			if _, _, _, err := db.AddMessage(ctx, tn.ID, msg(conv), nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
	})
	b.Run("parallel-16", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			conv := open(b)
			for pb.Next() {
				if _, _, _, err := db.AddMessage(ctx, tn.ID, msg(conv), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
	})
}
