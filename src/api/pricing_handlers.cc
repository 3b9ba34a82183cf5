// Pricing routes (docs/api.md "Pricing", docs/pricing.md):
//   GET /api/v1/pricing/models    the catalogue in force, in match order (the user's
//                                 models first), each with the price point in force now
//   GET /api/v1/pricing/unpriced  model calls whose model has no price, per provider and
//                                 model, most spans first (since the server started)
// Both read the PricingService's memory only, so they answer on the io thread. Without a
// pricing service (RouterOptions::pricing null) both answer 404 saying so.
#include <chrono>

#include "api/json_encode.h"
#include "api/router.h"

namespace sightline::api {
namespace {


void Num(JsonWriter& w, const char* key, const std::optional<double>& v) {
  w.Key(key);
  if (v) w.Double(*v);
  else w.Null();
}

void WritePrices(JsonWriter& w, const pipeline::TokenPrices& p) {
  Num(w, "input", p.input);
  Num(w, "output", p.output);
  Num(w, "cache_read", p.cache_read);
  Num(w, "cache_write", p.cache_write);
  Num(w, "reasoning", p.reasoning);
}

std::string Done(rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

Status PricingOff() {
  return Status::NotFound("pricing is off on this server (no pricing service; `sightline serve` enables it)");
}

}  // namespace

HttpResponse ApiRouter::PricingModels() {
  pipeline::PricingService* pricing = options_.pricing;
  if (pricing == nullptr) return Error(PricingOff());
  pricing->MaybeReload();  // an edit shows here even when no span has arrived since
  std::shared_ptr<const pipeline::Catalogue> cat = pricing->catalogue();
  const Status last_error = pricing->last_error();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("models");
  w.StartArray();
  for (const pipeline::ModelPricing& m : cat->models()) {
    w.StartObject();
    w.Key("id");
    Str(w, m.id);
    w.Key("provider");
    Str(w, m.provider);
    w.Key("match");
    Str(w, m.match);
    w.Key("origin");
    Str(w, m.origin);
    w.Key("input_includes_cache_read");
    w.Bool(m.input_includes_cache_read);
    const pipeline::PricePoint& p = m.PriceAt(now_ns);
    w.Key("price");
    w.StartObject();
    w.Key("from");
    Str(w, p.from);
    WritePrices(w, p.prices);
    w.Key("tiers");
    w.StartArray();
    for (const pipeline::PriceTier& t : p.tiers) {
      w.StartObject();
      w.Key("above_input_tokens");
      w.Int64(t.above_input_tokens);
      WritePrices(w, t.prices);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.Key("price_points");
    w.Uint64(m.prices.size());
    w.EndObject();
  }
  w.EndArray();
  w.Key("last_reload_error");
  if (last_error.ok()) w.Null();
  else Str(w, last_error.message());
  w.EndObject();
  return Json(200, Done(buf));
}

HttpResponse ApiRouter::PricingUnpriced() {
  pipeline::PricingService* pricing = options_.pricing;
  if (pricing == nullptr) return Error(PricingOff());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("models");
  w.StartArray();
  for (const pipeline::UnpricedModel& u : pricing->Unpriced()) {  // most spans first
    w.StartObject();
    w.Key("provider");
    Str(w, u.provider);
    w.Key("model");
    Str(w, u.model);
    w.Key("spans");
    w.Int64(u.spans);
    w.EndObject();
  }
  w.EndArray();
  w.Key("unpriced_spans");
  w.Int64(pricing->unpriced_spans());
  w.EndObject();
  return Json(200, Done(buf));
}

}  // namespace sightline::api
