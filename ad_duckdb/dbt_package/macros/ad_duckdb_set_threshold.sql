{#
  ad_duckdb_set_threshold: store threshold `name` for `model` (its latest version, or 'name@N'), chosen by `method`, as
  `ad-duckdb threshold` and ad_duckdb.set_threshold do; use it with is_anomaly_at(model, name, ...). Needs the plugin
  (module: ad_duckdb.dbt) in the profile. Installed with the dbt package ad_duckdb (`ad-duckdb dbt-package`:
  packages.yml, then dbt deps; call it ad_duckdb.set_threshold(...)), or copy this file into your project's macros/.

  Methods and the arguments each takes (others are refused):
    manual (value) | quantile, contamination (target) on the training scores
    max_f1, min_precision / min_recall (target, confident), flag_budget (target), min_cost (miss_cost, alarm_cost,
      anomaly_share): on labelled rows of source, with label (1 = anomaly) and optionally where, and weight (the
      column of each row's sample weight, when the labelled rows are a sample: every fraud but 1 in 50 normal rows)
    alarm_rate: on rows of source believed normal that the model did not train on (optionally where): rate (0.005 or
      '0.5%'), or per_day / per_hour / per_week with time (their DATE or TIMESTAMP column); weight for rows that are
      a sample of the stretch (1 in 4 kept: 4); with time, series (the column telling apart several series in one
      table, a sensor's id: episodes are runs within each) and tz (the zone whose days count, 'America/Los_Angeles';
      default: a TIMESTAMPTZ's in the profile's settings: {TimeZone: ...}, a TIMESTAMP's own wall time; with tz a
      TIMESTAMP is taken as UTC, as its statement says), timestamps_in (the zone whose wall-clock times a TIMESTAMP
      holds, 'Europe/Paris' for a Paris logger's: its days are that zone's unless tz names others)

  model is a name ('tx_ae': the version it means; 'tx_ae@3'), or a relation of one row with a model_ref column: in a
  training model's post_hook, model=this names the version that node just stored, staged (promote=False) or not:
    post_hook: "{{ ad_duckdb_set_threshold(this, 'cut', 'contamination', target=0.02) }}"

  In a post_hook (after the model's rows are built; transaction: false, see below):
    {{ config(post_hook={'sql': "{{ ad_duckdb_set_threshold('tx_ae', 'two_a_day', 'alarm_rate', source=this,
                                                             per_day=2, time='day') }}", 'transaction': false}) }}
  From the command line:
    dbt run-operation ad_duckdb_set_threshold --args "{model: tx_ae, name: cut, method: contamination, target: 0.02}"

  It stores at once (committed), so a threshold set in a model's pre_hook is seen by that model. It chooses on
  committed rows: inside the node's transaction (a hook's default), a source= reading the node's own relation (this,
  in a query, or through a view) is refused, as the rows the node built are not committed yet (the error writes out
  the hook with 'transaction': false that works); other relations (ref('labelled')) are read as committed. In `dbt
  build --empty` it stores nothing.
#}
{% macro ad_duckdb_set_threshold(model, name, method, value=none, target=none, source=none, label=none, where=none,
                                 confident=false, miss_cost=none, alarm_cost=none, anomaly_share=none, rate=none,
                                 per_hour=none, per_day=none, per_week=none, time=none,
                                 weight=none, series=none, tz=none, timestamps_in=none, called_as=none) %}
  {#- kwargs: the arguments the macro does not take, refused with the names it does (dbt said only "takes no keyword
      argument", naming an internal macro) -#}
  {%- if kwargs -%}
    {%- set unknown = kwargs.keys() | list | sort -%}
    {{ exceptions.raise_compiler_error(
         (called_as or 'ad_duckdb_set_threshold') ~ ": unknown argument" ~ ('s ' if unknown | length > 1 else ' ')
         ~ unknown | join(', ') ~ " for threshold '" ~ name ~ "' of " ~ model ~ "; the arguments are value, target, "
         ~ "source, label, where, confident, miss_cost, alarm_cost, anomaly_share, rate, per_hour, per_day, per_week, "
         ~ "time, weight, series, tz and timestamps_in (each method takes some of them).") }}
  {%- endif -%}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- if flags.EMPTY -%}
    {{ log("ad_duckdb_set_threshold: threshold '" ~ name ~ "' of " ~ model ~ " not stored in a --empty run", info=True) }}
    {{ return('') }}
  {%- endif -%}
  {#- a relation for model (this, in a training model's post_hook): the version its model_ref names, read on the
      node's own cursor, so it is the version the node just stored (a staged one too, which the bare name is not) -#}
  {%- if model is not string -%}
    {%- set shown = "ad_duckdb_set_threshold: model=" ~ model ~ " is a relation, read for the version it names in its "
                    ~ "column model_ref (a training model's table, or a score table pinned to one version)" -%}
    {%- set columns = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
    {%- if 'model_ref' not in columns -%}
      {{ exceptions.raise_compiler_error(shown ~ ", but it has no column model_ref: name the model ('tx_ae', "
                                         ~ "'tx_ae@3'), or pass the training model's relation, ref('tx_model').") }}
    {%- endif -%}
    {%- call statement('ad_duckdb_model_ref', fetch_result=True, auto_begin=False) -%}
      select distinct model_ref from {{ model }} where model_ref is not null
    {%- endcall -%}
    {%- set refs = load_result('ad_duckdb_model_ref')['data'] -%}
    {%- if refs | length != 1 -%}
      {{ exceptions.raise_compiler_error(shown ~ ", but it names " ~ (refs | length) ~ " versions there: name the "
                                         ~ "model ('tx_ae', 'tx_ae@3'), or pass a relation that names one.") }}
    {%- endif -%}
    {%- set model = refs[0][0] -%}
  {%- endif -%}
  {%- call statement('ad_duckdb_plugin', fetch_result=True, auto_begin=False) -%}
    select count(*) from duckdb_functions() where function_name = 'store_anomaly_threshold'
  {%- endcall -%}
  {%- if load_result('ad_duckdb_plugin')['data'][0][0] == 0 -%}
    {{ exceptions.raise_compiler_error(
         "ad_duckdb_set_threshold needs the ad_duckdb dbt plugin in the profile: add "
         ~ "`plugins: [{module: ad_duckdb.dbt}]` under the output this run uses (--target) in profiles.yml (and an "
         ~ "ad_duckdb release with this macro's function, store_anomaly_threshold).") }}
  {%- endif -%}
  {%- set given = {'value': value, 'target': target, 'label': label, 'where': where, 'miss_cost': miss_cost,
                   'alarm_cost': alarm_cost, 'anomaly_share': anomaly_share, 'rate': rate, 'per_hour': per_hour,
                   'per_day': per_day, 'per_week': per_week, 'time': time, 'weight': weight,
                   'series': series, 'tz': tz, 'timestamps_in': timestamps_in} -%}
  {#- the release this file came from (the package's dbt_project.yml version): the plugin refuses another's copy -#}
  {%- set package_version = '0.1.1' -%}
  {%- set options = {} -%}
  {%- do options.update({'package_version': package_version}) -%}
  {#- the name this macro was called by (ad_duckdb.set_threshold passes its own): the hook an error writes out uses it -#}
  {%- if called_as is not none -%}{%- do options.update({'called_as': called_as}) -%}{%- endif -%}
  {%- for key, v in given.items() if v is not none -%}{%- do options.update({key: v}) -%}{%- endfor -%}
  {#- the node's TimeZone (a profile's settings are SET on dbt's cursors, not on the connection the function stores
      through): alarm_rate reads a TIMESTAMPTZ's days in it, as every model of the run does -#}
  {%- call statement('ad_duckdb_zone', fetch_result=True, auto_begin=False) -%}
    select current_setting('TimeZone')
  {%- endcall -%}
  {%- do options.update({'session_zone': load_result('ad_duckdb_zone')['data'][0][0]}) -%}
  {#- a relation (this, ref('x'), source(...)) as the name it renders to -#}
  {%- if source is not none -%}{%- do options.update({'source': source | string}) -%}{%- endif -%}
  {#- the schema the hook's node builds into (a custom +schema: marts): a bare source= is looked up there first -#}
  {%- if source is not none and this is defined and this is not none and this.schema -%}
    {%- do options.update({'node_schema': [this.database, this.schema]}) -%}
  {%- endif -%}
  {%- if confident is not false and confident is not none -%}{%- do options.update({'confident': confident}) -%}{%- endif -%}
  {%- if source is not none -%}
    {#- two statements in one transaction id: the node's transaction is open (auto_begin=False opens none) -#}
    {%- set ids = [] -%}
    {%- for _ in range(2) -%}
      {%- call statement('ad_duckdb_transaction', fetch_result=True, auto_begin=False) -%}
        select current_transaction_id()
      {%- endcall -%}
      {%- do ids.append(load_result('ad_duckdb_transaction')['data'][0][0]) -%}
    {%- endfor -%}
    {%- if ids[0] == ids[1] and this is defined and this is not none -%}
      {#- the function reads committed rows: it refuses a source reading the relation this node writes -#}
      {%- do options.update({'in_transaction_of': this | string}) -%}
    {%- elif ids[0] == ids[1] -%}
      {{ exceptions.raise_compiler_error(
           "ad_duckdb_set_threshold: threshold '" ~ name ~ "' of " ~ model ~ " is chosen on rows of " ~ source
           ~ ", but it is called inside a transaction, where rows that transaction wrote are not committed: it "
           ~ "would be chosen on the rows before them. Call it in a hook with 'transaction': false, in on-run-end, "
           ~ "or with dbt run-operation.") }}
    {%- endif -%}
  {%- endif -%}
  {%- call statement('ad_duckdb_set_threshold', fetch_result=True, auto_begin=False) -%}
    {#- SQL text literals, inline rather than a helper macro: a package's macro calls another only by its package's
        name (ad_duckdb.x), which a copy in a project's macros/ does not have; names may hold quotes -#}
    select store_anomaly_threshold('{{ model | string | replace("'", "''") }}', '{{ name | string | replace("'", "''") }}',
                                   '{{ method | string | replace("'", "''") }}', '{{ tojson(options) | replace("'", "''") }}')
  {%- endcall -%}
  {%- set th = fromjson(load_result('ad_duckdb_set_threshold')['data'][0][0]) -%}
  {{ log("ad_duckdb: stored threshold '" ~ th['name'] ~ "' = " ~ ('%.6g' | format(th['value'])) ~ " (" ~ th['method'] ~ ", "
         ~ th['chosen_on'] ~ ") for " ~ th['model'], info=True) }}
  {{ return('') }}
{% endmacro %}
