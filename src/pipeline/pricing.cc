#include "pipeline/pricing.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

#include "common/toml_guard.h"

namespace sightline::pipeline {
namespace {

// "YYYY-MM-DD" -> ns since the epoch at UTC midnight.
std::optional<int64_t> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  // Days from civil (Howard Hinnant's algorithm): no time zone, no libc state.
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  return days * 86400 * int64_t{1000000000};
}

std::string Where(const std::string& origin, size_t index, const std::string& id) {
  std::string w = origin + ": model " + std::to_string(index + 1);
  if (!id.empty()) w += " (" + id + ")";
  return w;
}

Status ReadPrice(const toml::table& t, const char* key, bool required, const std::string& where, double* out,
                 std::optional<double>* opt) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) return Status::InvalidArgument(where + ": `" + key + "` is required (USD per million tokens)");
    return Status::OK();
  }
  std::optional<double> v = n->value<double>();
  if (!v || !std::isfinite(*v) || *v < 0)
    return Status::InvalidArgument(where + ": `" + key + "` must be a number >= 0 (USD per million tokens)");
  if (out) *out = *v;
  if (opt) *opt = *v;
  return Status::OK();
}

Status ReadPrices(const toml::table& t, const std::string& where, TokenPrices* p) {
  SL_RETURN_IF_ERROR(ReadPrice(t, "input", true, where, &p->input, nullptr));
  SL_RETURN_IF_ERROR(ReadPrice(t, "output", true, where, &p->output, nullptr));
  SL_RETURN_IF_ERROR(ReadPrice(t, "cache_read", false, where, nullptr, &p->cache_read));
  SL_RETURN_IF_ERROR(ReadPrice(t, "cache_write", false, where, nullptr, &p->cache_write));
  SL_RETURN_IF_ERROR(ReadPrice(t, "reasoning", false, where, nullptr, &p->reasoning));
  return Status::OK();
}

Result<ModelPricing> ParseModel(const toml::table& t, size_t index, const std::string& origin) {
  ModelPricing m;
  m.origin = origin;
  m.id = t["id"].value_or(std::string());
  const std::string where = Where(origin, index, m.id);
  if (m.id.empty()) return Status::InvalidArgument(where + ": `id` is required (e.g. \"openai/gpt-4o\")");
  m.provider = t["provider"].value_or(std::string());
  m.match = t["match"].value_or(std::string());
  if (m.match.empty()) return Status::InvalidArgument(where + ": `match` is required (a regular expression)");
  try {
    m.re = std::regex(m.match, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument(where + ": `match` is not a valid regular expression: " + e.what());
  }
  if (const toml::node* n = t.get("input_includes_cache_read")) {
    auto b = n->value<bool>();
    if (!b) return Status::InvalidArgument(where + ": `input_includes_cache_read` must be true or false");
    m.input_includes_cache_read = *b;
  }
  const toml::array* prices = t["price"].as_array();
  if (!prices || prices->empty())
    return Status::InvalidArgument(where + ": needs at least one [[model.price]] entry");
  for (size_t i = 0; i < prices->size(); ++i) {
    const toml::table* pt = (*prices)[i].as_table();
    const std::string pw = where + ": price " + std::to_string(i + 1);
    if (!pt) return Status::InvalidArgument(pw + ": must be a table");
    PricePoint p;
    p.from = (*pt)["from"].value_or(std::string());
    auto from = ParseDate(p.from);
    if (!from) return Status::InvalidArgument(pw + ": `from` must be a date YYYY-MM-DD");
    p.from_ns = *from;
    SL_RETURN_IF_ERROR(ReadPrices(*pt, pw, &p.prices));
    if (const toml::node* tiers_node = pt->get("tier")) {
      const toml::array* tiers = tiers_node->as_array();
      if (!tiers) return Status::InvalidArgument(pw + ": `tier` must be an array of tables");
      for (size_t k = 0; k < tiers->size(); ++k) {
        const toml::table* tt = (*tiers)[k].as_table();
        const std::string tw = pw + ": tier " + std::to_string(k + 1);
        if (!tt) return Status::InvalidArgument(tw + ": must be a table");
        PriceTier tier;
        auto above = (*tt)["above_input_tokens"].value<int64_t>();
        if (!above || *above < 0)
          return Status::InvalidArgument(tw + ": `above_input_tokens` must be an integer >= 0");
        tier.above_input_tokens = *above;
        SL_RETURN_IF_ERROR(ReadPrices(*tt, tw, &tier.prices));
        p.tiers.push_back(std::move(tier));
      }
      std::sort(p.tiers.begin(), p.tiers.end(),
                [](const PriceTier& a, const PriceTier& b) { return a.above_input_tokens < b.above_input_tokens; });
    }
    m.prices.push_back(std::move(p));
  }
  std::sort(m.prices.begin(), m.prices.end(), [](const PricePoint& a, const PricePoint& b) { return a.from_ns < b.from_ns; });
  for (size_t i = 1; i < m.prices.size(); ++i)
    if (m.prices[i].from_ns == m.prices[i - 1].from_ns)
      return Status::InvalidArgument(where + ": two prices take effect on " + m.prices[i].from);
  return m;
}

double PerMillion(int64_t tokens, double price) { return static_cast<double>(tokens) * price / 1e6; }

}  // namespace

const PricePoint& ModelPricing::PriceAt(int64_t at_ns) const {
  // prices is non-empty (Parse requires one) and ascending by from_ns.
  auto it = std::upper_bound(prices.begin(), prices.end(), at_ns,
                             [](int64_t t, const PricePoint& p) { return t < p.from_ns; });
  return it == prices.begin() ? prices.front() : *(it - 1);
}

double CostOf(const ModelPricing& m, const Usage& u, int64_t at_ns) {
  const PricePoint& point = m.PriceAt(at_ns);
  const int64_t in = std::max<int64_t>(0, u.input), out = std::max<int64_t>(0, u.output);
  const int64_t cr = std::max<int64_t>(0, u.cache_read), cw = std::max<int64_t>(0, u.cache_write);
  const int64_t rs = std::max<int64_t>(0, u.reasoning);
  const int64_t prompt_size = m.input_includes_cache_read ? in : in + cr + cw;
  const TokenPrices* p = &point.prices;
  for (const PriceTier& t : point.tiers)
    if (prompt_size > t.above_input_tokens) p = &t.prices;
  const int64_t fresh_in = m.input_includes_cache_read ? std::max<int64_t>(0, in - cr) : in;
  double cost = PerMillion(fresh_in, p->input);
  cost += PerMillion(cr, p->cache_read.value_or(p->input));
  cost += PerMillion(cw, p->cache_write.value_or(p->input));
  if (p->reasoning) {
    cost += PerMillion(std::max<int64_t>(0, out - rs), p->output) + PerMillion(rs, *p->reasoning);
  } else {
    cost += PerMillion(out, p->output);
  }
  return cost;
}

std::string NormalizeModelId(std::string_view model) {
  size_t slash = model.rfind('/');
  if (slash != std::string_view::npos) model.remove_prefix(slash + 1);
  std::string s(model);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<std::vector<ModelPricing>> Catalogue::Parse(std::string_view toml_text, const std::string& origin) {
  // Inputs toml++ does not refuse cleanly are refused first (common/toml_guard.h).
  SL_RETURN_IF_ERROR(CheckTomlText(toml_text, origin));
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << UnquotedTomlError(e.description());
    return Status::InvalidArgument(msg.str());
  }
  std::vector<ModelPricing> models;
  const toml::node* list = doc.get("model");
  if (!list) return models;  // an empty user file is fine
  const toml::array* arr = list->as_array();
  if (!arr) return Status::InvalidArgument(origin + ": `model` must be an array of tables ([[model]])");
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = (*arr)[i].as_table();
    if (!t) return Status::InvalidArgument(Where(origin, i, "") + ": must be a table ([[model]])");
    SL_ASSIGN_OR_RETURN(ModelPricing m, ParseModel(*t, i, origin));
    models.push_back(std::move(m));
  }
  return models;
}

const ModelPricing* Catalogue::Find(std::string_view provider, std::string_view model) const {
  if (model.empty()) return nullptr;
  std::string key(provider);
  key.push_back('\0');
  key.append(model);
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second < 0 ? nullptr : &models_[static_cast<size_t>(it->second)];
  }
  const std::string id = NormalizeModelId(model);
  int found = -1, any_provider = -1;
  for (size_t i = 0; i < models_.size() && found < 0; ++i) {
    const ModelPricing& m = models_[i];
    if (!std::regex_match(id, m.re)) continue;
    if (m.provider.empty() || provider.empty() || m.provider == provider) {
      found = static_cast<int>(i);
    } else if (any_provider < 0) {
      any_provider = static_cast<int>(i);  // billed elsewhere (e.g. a cloud reseller): same list price
    }
  }
  if (found < 0) found = any_provider;
  std::lock_guard<std::mutex> l(cache_mu_);
  if (cache_.size() < 100000) cache_.emplace(std::move(key), found);
  return found < 0 ? nullptr : &models_[static_cast<size_t>(found)];
}

Result<std::unique_ptr<PricingService>> PricingService::Create(Options options) {
  std::unique_ptr<PricingService> s(new PricingService(std::move(options)));
  SL_ASSIGN_OR_RETURN(s->shipped_, Catalogue::Parse(ShippedPricingToml(), "data/pricing.toml (shipped)"));
  s->current_ = std::make_shared<const Catalogue>(s->shipped_);
  SL_RETURN_IF_ERROR(s->Reload());
  if (MetricsRegistry* m = s->opts_.metrics) {
    s->priced_metric_ = m->GetCounter("sightline_spans_priced_total",
                                      "Model-call spans given a cost from the pricing catalogue.");
    s->unpriced_metric_ = m->GetCounter("sightline_spans_unpriced_total",
                                        "Model-call spans with tokens whose model has no price "
                                        "(GET /api/v1/pricing/unpriced lists them).");
    s->reload_errors_metric_ = m->GetCounter("sightline_pricing_reload_errors_total",
                                             "Edits of the user pricing file refused (the prices in force stay).");
    s->reload_ok_metric_ = m->GetGauge("sightline_pricing_last_reload_successful",
                                       "1 when the user pricing file in its current content is in force, else 0.");
    s->reload_ok_metric_->Set(1);
  }
  std::lock_guard<std::mutex> l(s->mu_);
  s->started_ = true;
  return s;
}

Status PricingService::ReadUserFile(std::string* text) const {
  text->clear();
  if (opts_.user_file.empty() || !opts_.env->FileExists(opts_.user_file)) return Status::OK();
  auto f = opts_.env->NewSequentialFile(opts_.user_file);
  if (!f.ok()) return f.status().WithContext(opts_.user_file);
  std::string scratch;
  for (;;) {
    std::string_view chunk;
    Status st = (*f)->Read(1 << 16, &scratch, &chunk);
    if (!st.ok()) return st.WithContext(opts_.user_file);
    if (chunk.empty()) break;
    text->append(chunk);
    if (text->size() > (16u << 20)) return Status::TooLarge(opts_.user_file + ": larger than 16 MiB");
  }
  return Status::OK();
}

Status PricingService::Reload() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::string text;
  Status read = ReadUserFile(&text);
  if (!read.ok()) return ReloadFailed(std::move(read), std::string());
  {
    std::lock_guard<std::mutex> l(mu_);
    if (text == user_text_ && current_) {  // unchanged, or an edit reverted to what is in force
      outcome_.Succeeded();
      if (reload_ok_metric_) reload_ok_metric_->Set(1);
      return Status::OK();
    }
    // Refused already (parse errors only: a read error says nothing about the content).
    if (outcome_.AlreadyRefused(text)) return outcome_.last_error();
  }
  auto user = Catalogue::Parse(text, opts_.user_file);
  if (!user.ok()) return ReloadFailed(user.status(), std::move(text));
  const size_t user_models = user->size();
  std::vector<ModelPricing> models = std::move(*user);
  models.insert(models.end(), shipped_.begin(), shipped_.end());
  bool started;
  {
    std::lock_guard<std::mutex> l(mu_);
    current_ = std::make_shared<const Catalogue>(std::move(models));
    user_text_ = std::move(text);
    outcome_.Succeeded();
    started = started_;
  }
  if (reload_ok_metric_) reload_ok_metric_->Set(1);
  if (started && opts_.logger)
    opts_.logger("pricing: " + opts_.user_file + " reloaded: " + std::to_string(user_models) + " models of yours, " +
                 std::to_string(shipped_.size()) + " shipped");
  return Status::OK();
}

Status PricingService::ReloadFailed(Status status, std::string text) {
  bool news, started;
  {
    std::lock_guard<std::mutex> l(mu_);
    news = outcome_.Failed(status, std::move(text));
    started = started_;
  }
  if (!started || !news) return status;  // at start-up, Create's caller reports it
  if (reload_errors_metric_) reload_errors_metric_->Inc();
  if (reload_ok_metric_) reload_ok_metric_->Set(0);
  if (opts_.logger) opts_.logger("pricing: edit refused, the prices in force stay: " + status.message());
  return status;
}

void PricingService::MaybeReload() {
  if (opts_.user_file.empty()) return;
  const int64_t now = opts_.env->MonotonicNanos();
  if (!throttle_.Due(now, opts_.reload_interval_ms)) return;
  (void)Reload();  // a bad edit is kept in last_error() and the old prices stay
}

std::shared_ptr<const Catalogue> PricingService::catalogue() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

Status PricingService::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return outcome_.last_error();
}

void PricingService::Apply(std::vector<model::Span>* spans) { ApplyTo(spans); }
void PricingService::Apply(model::SpanList* spans) { ApplyTo(spans); }

template <typename Spans>
void PricingService::ApplyTo(Spans* spans) {
  MaybeReload();
  std::shared_ptr<const Catalogue> cat = catalogue();
  std::map<std::pair<std::string, std::string>, int64_t> missing;
  int64_t priced = 0;
  for (model::Span& s : *spans) {
    const auto kind = s.kind();
    if (kind != model::v1::KIND_LLM && kind != model::v1::KIND_EMBEDDING && kind != model::v1::KIND_RERANK) continue;
    if (s.model().empty() || (!s.has_input_tokens() && !s.has_output_tokens())) continue;
    const ModelPricing* m = cat->Find(s.provider(), s.model());
    if (!m) {
      ++missing[{s.provider(), s.model()}];
      continue;
    }
    Usage u;
    u.input = s.input_tokens();
    u.output = s.output_tokens();
    u.cache_read = s.cache_read_tokens();
    u.cache_write = s.cache_write_tokens();
    u.reasoning = s.reasoning_tokens();
    const double cost = CostOf(*m, u, s.start_ns());
    ++priced;
    s.set_computed_cost_usd(cost);
    if (s.cost_source() != model::v1::COST_REPORTED) {
      s.set_cost_usd(cost);
      s.set_cost_source(model::v1::COST_COMPUTED);
    }
  }
  if (priced > 0 && priced_metric_) priced_metric_->Inc(static_cast<double>(priced));
  if (missing.empty()) return;
  int64_t total = 0;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [k, n] : missing) {
    total += n;
    auto it = unpriced_.find(k);
    if (it != unpriced_.end()) {
      it->second += n;
    } else if (unpriced_.size() < opts_.max_unpriced_models) {
      unpriced_.emplace(k, n);
    } else {
      unpriced_[{"", "other"}] += n;
    }
  }
  unpriced_total_.fetch_add(total, std::memory_order_relaxed);
  if (unpriced_metric_) unpriced_metric_->Inc(static_cast<double>(total));
}

bool RepriceSpan(const Catalogue& cat, model::Span* s) {
  const auto kind = s->kind();
  if (kind != model::v1::KIND_LLM && kind != model::v1::KIND_EMBEDDING && kind != model::v1::KIND_RERANK) return false;
  if (s->model().empty() || (!s->has_input_tokens() && !s->has_output_tokens())) return false;
  const bool reported = s->cost_source() == model::v1::COST_REPORTED;
  const ModelPricing* m = cat.Find(s->provider(), s->model());
  if (!m) {  // no longer priced: the catalogue's figure goes
    bool changed = s->has_computed_cost_usd();
    s->clear_computed_cost_usd();
    if (!reported && (s->has_cost_usd() || s->cost_source() != model::v1::COST_UNKNOWN)) {
      s->clear_cost_usd();
      s->set_cost_source(model::v1::COST_UNKNOWN);
      changed = true;
    }
    return changed;
  }
  Usage u;
  u.input = s->input_tokens();
  u.output = s->output_tokens();
  u.cache_read = s->cache_read_tokens();
  u.cache_write = s->cache_write_tokens();
  u.reasoning = s->reasoning_tokens();
  const double cost = CostOf(*m, u, s->start_ns());
  bool changed = !s->has_computed_cost_usd() || s->computed_cost_usd() != cost;
  s->set_computed_cost_usd(cost);
  if (!reported) {
    changed = changed || !s->has_cost_usd() || s->cost_usd() != cost || s->cost_source() != model::v1::COST_COMPUTED;
    s->set_cost_usd(cost);
    s->set_cost_source(model::v1::COST_COMPUTED);
  }
  return changed;
}

std::vector<UnpricedModel> PricingService::Unpriced() const {
  std::vector<UnpricedModel> out;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, n] : unpriced_) out.push_back({k.first, k.second, n});
  }
  std::sort(out.begin(), out.end(), [](const UnpricedModel& a, const UnpricedModel& b) {
    if (a.spans != b.spans) return a.spans > b.spans;
    return std::tie(a.provider, a.model) < std::tie(b.provider, b.model);
  });
  return out;
}

}  // namespace sightline::pipeline
