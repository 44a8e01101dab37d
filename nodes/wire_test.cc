// Messages travel the network as the sender's objects (nodes/wire.h); these tests hold the
// contract that nothing can tell that from sending the encoded bytes.
#include "nodes/wire.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "nodes/register/register.pb.h"
#include "nodes/world.h"
#include "storage/types.pb.h"

namespace hindcast::nodes {
namespace {

reg::Message Reply(uint64_t req, int64_t value) {
  reg::Message m;
  m.mutable_reply()->set_req(req);
  m.mutable_reply()->set_has_value(true);
  m.mutable_reply()->set_value(value);
  return m;
}

// Keeps what it was given: the payload's size, whether it still held its object, and the
// message taken out of it.
class Inbox : public sim::Node {
 public:
  struct Got {
    uint64_t size;
    bool was_object;
    std::string message;  // Encoded, for comparison.
  };
  explicit Inbox(std::vector<Got>* got) : got_(got) {}
  void Receive(sim::NodeId, sim::Payload& payload) override {
    const uint64_t size = payload.size();
    const bool was_object = !payload.has_bytes();
    const reg::Message* m = ReadMessage<reg::Message>(payload);
    ASSERT_NE(m, nullptr);
    got_->push_back({size, was_object, Encode(*m)});
  }

 private:
  std::vector<Got>* got_;
};

class Silent : public sim::Node {
 public:
  void Receive(sim::NodeId, sim::Payload&) override {}
};

// One world with a sender (0) and an inbox (1); `send` runs as the sender at time zero.
struct Delivered {
  std::vector<Inbox::Got> got;
  uint64_t fingerprint = 0;
};
Delivered SendAndDeliver(const sim::LinkParams& link, absl::AnyInvocable<void(NodeEnv&)> send) {
  Delivered run;
  World world({.seed = 7, .network = {.default_link = link}});
  NodeEnv* sender = nullptr;
  world.AddServer(0, "sender", [&](NodeEnv& env) {
    sender = &env;
    return std::make_unique<Silent>();
  });
  world.AddServer(1, "inbox", [&](NodeEnv&) { return std::make_unique<Inbox>(&run.got); });
  world.sim().Schedule(sim::Duration::Zero(), [&] { send(*sender); });
  world.sim().Run({});
  run.fingerprint = world.sim().log().fingerprint();
  return run;
}

TEST(WireTest, AMessageArrivesAsTheSendersObjectWithItsEncodedSize) {
  const reg::Message sent = Reply(3, -42);
  const Delivered run = SendAndDeliver({}, [&](NodeEnv& env) { SendMessage(env, 1, sent); });
  ASSERT_EQ(run.got.size(), 1u);
  EXPECT_TRUE(run.got[0].was_object);
  EXPECT_EQ(run.got[0].size, Encode(sent).size());
  EXPECT_EQ(run.got[0].message, Encode(sent));
}

// The network records sizes only, so a run is the same event for event whichever way its
// messages travel.
TEST(WireTest, AnObjectAndItsBytesMakeTheSameRun) {
  const sim::LinkParams lossy = {.drop_ppm = 300'000, .duplicate_ppm = 300'000};
  auto send_all = [](bool as_objects) {
    return [as_objects](NodeEnv& env) {
      for (int i = 1; i <= 50; ++i) {
        reg::Message m = Reply(i, i * 1000);
        if (as_objects) {
          SendMessage(env, 1, std::move(m));
        } else {
          env.Send(1, Encode(m));
        }
      }
    };
  };
  const Delivered objects = SendAndDeliver(lossy, send_all(true));
  const Delivered bytes = SendAndDeliver(lossy, send_all(false));
  EXPECT_EQ(objects.fingerprint, bytes.fingerprint);
  ASSERT_EQ(objects.got.size(), bytes.got.size());
  ASSERT_GT(objects.got.size(), 10u);
  for (size_t i = 0; i < objects.got.size(); ++i) {
    EXPECT_TRUE(objects.got[i].was_object);
    EXPECT_FALSE(bytes.got[i].was_object);
    EXPECT_EQ(objects.got[i].message, bytes.got[i].message) << "message " << i;
    EXPECT_EQ(objects.got[i].size, bytes.got[i].size);
  }
}

// A duplicate is an independent copy: each receiver takes a whole message.
TEST(WireTest, EachCopyOfADuplicatedMessageIsWhole) {
  const reg::Message sent = Reply(9, 99);
  const Delivered run = SendAndDeliver({.duplicate_ppm = 1'000'000},
                                       [&](NodeEnv& env) { SendMessage(env, 1, sent); });
  ASSERT_EQ(run.got.size(), 2u);
  for (const Inbox::Got& got : run.got) EXPECT_EQ(got.message, Encode(sent));
}

// The sender gives up a snapshot: changing its message after the send changes nothing.
TEST(WireTest, TheSenderKeepsNoHoldOnWhatItSent) {
  reg::Message m = Reply(5, 55);
  const std::string at_send = Encode(m);
  const Delivered run = SendAndDeliver({}, [&](NodeEnv& env) {
    SendMessage(env, 1, m);
    m.mutable_reply()->set_value(0);
  });
  ASSERT_EQ(run.got.size(), 1u);
  EXPECT_EQ(run.got[0].message, at_send);
}

// ReadMessage reads a body of its type in place, and keeps its parse of anything else with
// the payload, whose bytes stay as they came.
TEST(WireTest, ReadMessageReadsInPlaceOrKeepsItsParse) {
  const reg::Message sent = Reply(4, 44);
  sim::Payload object = MessagePayload(sent);
  reg::Message* in_place = ReadMessage<reg::Message>(object);
  ASSERT_NE(in_place, nullptr);
  EXPECT_EQ(in_place, &object.body_as<ProtoBody<reg::Message>>()->message());
  EXPECT_EQ(Encode(*in_place), Encode(sent));

  sim::Payload bytes(Encode(sent));
  reg::Message* parsed = ReadMessage<reg::Message>(bytes);
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(Encode(*parsed), Encode(sent));
  EXPECT_EQ(ReadMessage<reg::Message>(bytes), parsed);  // Kept: parsed once.
  EXPECT_EQ(bytes.bytes(), Encode(sent));

  sim::Payload garbage(std::string("\xff\xff\xff"));
  EXPECT_EQ(ReadMessage<reg::Message>(garbage), nullptr);
}

// A receiver expecting another type parses the encoding, as it would off the wire.
TEST(WireTest, ReadingAnotherTypeParsesTheEncoding) {
  storage::pb::Timestamp ts;
  ts.set_physical_ns(12345);
  ts.set_logical(6);
  sim::Payload payload = MessagePayload(ts);
  EXPECT_EQ(payload.size(), Encode(ts).size());
  reg::Message as_other;
  const bool parsed = ParseMessage(Encode(ts), &as_other);
  EXPECT_EQ(ReadMessage<reg::Message>(payload) != nullptr, parsed);
  const storage::pb::Timestamp* back = ReadMessage<storage::pb::Timestamp>(payload);
  ASSERT_NE(back, nullptr);  // The mismatch left the encoding as it was.
  EXPECT_EQ(Encode(*back), Encode(ts));
}

}  // namespace
}  // namespace hindcast::nodes
