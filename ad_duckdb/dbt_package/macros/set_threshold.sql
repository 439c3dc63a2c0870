{#
  ad_duckdb.set_threshold: the package's name for ad_duckdb_set_threshold (same arguments; see that macro), as a
  package's macros are called with its name in front: {{ ad_duckdb.set_threshold('tx_ae', 'cut', 'manual', value=12.0) }}
  or `dbt run-operation ad_duckdb.set_threshold --args "{model: tx_ae, name: cut, method: manual, value: 12.0}"`.
#}
{% macro set_threshold(model, name, method) %}
  {#- called_as: the name a hook the plugin writes out in an error calls (the bare name is a copied macro's) -#}
  {{ return(ad_duckdb.ad_duckdb_set_threshold(model, name, method, *varargs, called_as='ad_duckdb.set_threshold',
                                              **kwargs)) }}
{% endmacro %}
