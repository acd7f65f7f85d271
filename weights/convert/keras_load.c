/* keras_load.c: Keras .h5 -> struct dg_model (see keras_load.h).  The file and its JSON are
 * read here; each layer type is turned into ops by keras_layers.c. */
#include "keras_load.h"
#include "keras_build.h"
#include "keras_archive.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 512

void kb_fail(struct kb *b, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (b->lname)
        snprintf(b->err, b->errlen, "%s: layer '%s' (%s): %s", b->path, b->lname, b->ltype, msg);
    else
        snprintf(b->err, b->errlen, "%s: %s", b->path, msg);
}

void kb_sanitize(char *s)
{
    for (; s && *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-+ ", *s))
            *s = '_';
}

size_t dg_op_weight_floats(const struct dg_op *op)
{
    switch (op->kind) {
    case DG_OP_CONV2D: return (size_t)op->kh * op->kw * op->in.c * op->out.c;
    case DG_OP_DENSE: return (size_t)op->in.c * op->out.c;
    case DG_OP_AFFINE: return (size_t)op->out.c;
    default: return 0;
    }
}

size_t dg_op_bias_floats(const struct dg_op *op)
{
    return op->bias ? (size_t)op->out.c : 0;
}

/* What the first n bytes say the file is, before libhdf5 gives a generic error: 0 HDF5,
 * 1 a zip archive (a .keras archive, keras_archive.c), -1 (err) anything else. */
static int signature_kind(const unsigned char *sig, size_t n, const char *path, char *err,
                          size_t errlen)
{
    if (n >= 4 && memcmp(sig, "PK\3\4", 4) == 0)
        return 1;
    if (n < 8 || memcmp(sig, "\211HDF\r\n\032\n", 8) != 0) {
        snprintf(err, errlen, "%s: not an HDF5 file (no HDF5 signature); expected a Keras .h5 "
                              "written by model.save(\"model.h5\")", path);
        return -1;
    }
    return 0;
}

/* signature_kind of the file at path. */
static int check_signature(const char *path, char *err, size_t errlen)
{
    unsigned char sig[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return -1;
    }
    size_t n = fread(sig, 1, sizeof sig, f);
    fclose(f);
    return signature_kind(sig, n, path, err, errlen);
}

/* A SHA-256 as a malloc'd hex string (NULL if out of memory). */
static char *hex_of(const unsigned char h[crypto_hash_sha256_BYTES])
{
    char *hex = malloc(2 * crypto_hash_sha256_BYTES + 1);
    return hex ? sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h,
                                crypto_hash_sha256_BYTES) : NULL;
}

static char *sha256_hex(const char *path)
{
    unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    crypto_hash_sha256_init(&st);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return NULL;
    crypto_hash_sha256_final(&st, h);
    return hex_of(h);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* No model_config: say what the file is instead, if we can tell. */
static void explain_no_config(struct kb *b)
{
    if (H5Lexists(b->file, "layers", H5P_DEFAULT) > 0 ||
        h5r_has_attr(b->file, ".", "layer_names"))
        kb_fail(b, "a weights-only file (model.save_weights): it has no model_config, so the "
                   "architecture is unknown; pass it with --config model.json (model.to_json()) "
                   "or save the full model with model.save(\"model.h5\")");
    else
        kb_fail(b, "HDF5 but not a Keras model: no 'model_config' attribute at the root");
}

/* Where the weights are (keras_build.h): a full model's model_weights group, else the root
 * of a tf.keras save_weights file (layer_names there), else Keras 3's layers/ groups. */
static int weights_layout(struct kb *b)
{
    if (H5Lexists(b->file, "model_weights", H5P_DEFAULT) > 0)
        b->layout = KB_MODEL_WEIGHTS;
    else if (h5r_has_attr(b->file, ".", "layer_names"))
        b->layout = KB_ROOT;
    else if (H5Lexists(b->file, "layers", H5P_DEFAULT) > 0)
        b->layout = KB_VARS;
    else {
        kb_fail(b, "no weights: neither a model_weights group, nor layer_names at the root "
                   "(tf.keras save_weights), nor a layers group (Keras 3 .weights.h5)");
        return -1;
    }
    return 0;
}

/* The architecture JSON, from --config (at most H5R_MAX_STRING bytes) or model_config. */
static char *config_json(struct kb *b)
{
    char *json = NULL;
    const char *cfg = b->opts->config;
    if (b->config_text && !cfg) {
        if (!(json = strdup(b->config_text)))
            kb_fail(b, "out of memory");
        return json;
    }
    if (!cfg) {
        if (h5r_attr_string(b->file, ".", "model_config", &json, b->err, b->errlen))
            explain_no_config(b);
        return json;
    }
    FILE *f = fopen(cfg, "rb");
    json = f ? malloc(H5R_MAX_STRING + 1) : NULL;
    size_t n = json ? fread(json, 1, H5R_MAX_STRING + 1, f) : 0;
    if (!f || !json || ferror(f) || n > H5R_MAX_STRING) {
        kb_fail(b, "--config %s: cannot read it%s: %m", cfg,
                n > H5R_MAX_STRING ? " (larger than 1 MiB)" : "");
        free(json), json = NULL;
    } else {
        json[n] = 0;
    }
    if (f)
        fclose(f);
    return json;
}

/* A Functional model's inbound references: Keras 2 [[["name", 0, 0, {}]]], Keras 3
 * {"args": [{"config": {"keras_history": ["name", 0, 0]}}]}. Counts them, keeps the first
 * two. */
static void inbound_refs(const cJSON *j, int *n, const char *from[2])
{
    if (cJSON_IsArray(j) && cJSON_IsString(cJSON_GetArrayItem(j, 0)) &&
        cJSON_IsNumber(cJSON_GetArrayItem(j, 1))) {
        if (*n < 2)
            from[*n] = cJSON_GetArrayItem(j, 0)->valuestring;
        (*n)++;
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        if (c->string && strcmp(c->string, "keras_history") == 0 && cJSON_IsArray(c)) {
            if (*n < 2)
                from[*n] = cJSON_IsString(c->child) ? c->child->valuestring : "";
            (*n)++;
        } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
            inbound_refs(c, n, from);
        }
    }
}

static const char *layer_name(const cJSON *l)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(cfg, "name");
    if (!cJSON_IsString(n))
        n = cJSON_GetObjectItemCaseSensitive(l, "name");
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* Functional models are accepted when they are a chain: each layer reads the one before.
 * A refusal names the layer, its class and what it reads: the two layers it joins (a
 * residual Add, a Concatenate), or the one it reads instead of the layer before. */
static int check_chain(struct kb *b, const cJSON *layers)
{
    const char *prev = NULL;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        int n = 0;
        const char *from[2] = {"", ""};
        inbound_refs(cJSON_GetObjectItemCaseSensitive(l, "inbound_nodes"), &n, from);
        const char *name = layer_name(l);
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(l, "class_name");
        if (prev && !(n == 1 && strcmp(from[0], prev) == 0)) {
            char what[640];
            if (n >= 2)
                snprintf(what, sizeof what, "joins %d layers, '%.200s' and '%.200s'%s", n,
                         from[0], from[1], n > 2 ? " and more" : "");
            else if (n == 1)
                snprintf(what, sizeof what, "reads '%.200s', not '%.200s' (the layer before it)",
                         from[0], prev);
            else
                snprintf(what, sizeof what, "has no input (a second model input?)");
            kb_fail(b, "layer '%s' (%s) %s: only Sequential models and Functional models that "
                       "are a single chain are supported", name ? name : "?",
                    cJSON_IsString(cls) ? cls->valuestring : "?", what);
            return -1;
        }
        prev = name;
    }
    return 0;
}

/* The list of layer configs, the model's name, checking the model class. */
static const cJSON *config_layers(struct kb *b, const cJSON *root)
{
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "class_name");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    const char *c = cJSON_IsString(cls) ? cls->valuestring : "";
    int functional = strcmp(c, "Functional") == 0 || strcmp(c, "Model") == 0;
    if (strcmp(c, "Sequential") != 0 && !functional) {
        kb_fail(b, "model class '%s' is not supported (Sequential, or a Functional chain)", c);
        return NULL;
    }
    const cJSON *layers = cJSON_IsArray(cfg) ? cfg /* Keras 2.0: a bare list */
                                             : cJSON_GetObjectItemCaseSensitive(cfg, "layers");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "name");
    b->km->name = strdup(cJSON_IsString(name) ? name->valuestring : "sequential");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) == 0 ||
        cJSON_GetArraySize(layers) > MAX_LAYERS) {
        kb_fail(b, "model_config has no layer list (or more than %d layers)", MAX_LAYERS);
        return NULL;
    }
    if (functional && check_chain(b, layers))
        return NULL;
    return layers;
}

#define MAX_NESTING 4

/* Appends to flat (references) the layer configs of list, a nested Sequential replaced by
 * its own layers: an augmentation or rescaling block written as a model of its own and used
 * as a layer (the pattern of Keras's guides), whose layers have no weights. outer names the
 * nested model list belongs to (NULL: the model itself). */
static int flatten_layers(struct kb *b, const cJSON *list, cJSON *flat, const char *outer,
                          int depth)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, list)
    {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(l, "class_name");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(l, "config");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(cfg, "name");
        const char *name = cJSON_IsString(nm) ? nm->valuestring : "?";
        if (!cJSON_IsString(cls) || strcmp(cls->valuestring, "Sequential") != 0) {
            if (outer && cJSON_IsString(cls) && kb_type_has_weights(cls->valuestring)) {
                kb_fail(b, "layer '%s' (Sequential) is a nested model whose layer '%s' (%s) has "
                           "weights: a nested model is supported only as a block of layers "
                           "without weights (augmentation, rescaling); save the model with its "
                           "layers in one list", outer, name, cls->valuestring);
                return -1;
            }
            if (cJSON_GetArraySize(flat) >= MAX_LAYERS) {
                kb_fail(b, "more than %d layers, nested models' included", MAX_LAYERS);
                return -1;
            }
            if (!cJSON_AddItemReferenceToArray(flat, (cJSON *)l)) { /* cJSON takes non-const */
                kb_fail(b, "out of memory");
                return -1;
            }
            continue;
        }
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(cfg, "layers");
        if (!cJSON_IsArray(sub)) {
            kb_fail(b, "layer '%s' (Sequential): a nested model without a layer list", name);
            return -1;
        }
        if (depth >= MAX_NESTING) {
            kb_fail(b, "layer '%s' (Sequential): models nested more than %d deep", name,
                    MAX_NESTING);
            return -1;
        }
        if (flatten_layers(b, sub, flat, name, depth + 1))
            return -1;
    }
    return 0;
}

static int parse_and_build(struct kb *b)
{
    char *json = config_json(b);
    if (!json || weights_layout(b)) {
        free(json);
        return -1;
    }
    cJSON *root = cJSON_Parse(json);
    free(json);
    if (!root) {
        kb_fail(b, "%s is not valid JSON", b->opts->config ? b->opts->config : "model_config");
        return -1;
    }
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(root, "keras_version"); /* to_json() */
    if (cJSON_IsString(kv) && strcmp(b->km->keras_version, "unknown") == 0) {
        free(b->km->keras_version);
        b->km->keras_version = strdup(kv->valuestring);
    }
    b->model = root;
    const cJSON *layers = config_layers(b, root);
    cJSON *flat = layers ? cJSON_CreateArray() : NULL;
    int rc = -1;
    if (layers && !flat)
        kb_fail(b, "out of memory");
    else if (flat && flatten_layers(b, layers, flat, NULL, 0) == 0)
        rc = kb_build(b, flat);
    cJSON_Delete(flat); /* references: the configs stay root's */
    cJSON_Delete(root);
    return rc;
}

int dg_input_spec_parse(const char *s, struct dg_input_spec *in, char *err, size_t errlen)
{
    *in = (struct dg_input_spec){1, 0, 1};
    if (strcmp(s, "unit") == 0 || strcmp(s, "raw") == 0) {
        in->scale = s[0] == 'r' ? 255 : 1;
        return 0;
    }
    double v[3] = {1, 0, 1};
    int used = 0;
    int ok = (sscanf(s, "%lf%n", &v[0], &used) == 1 && s[used] == 0) ||
             (sscanf(s, "%lf,%lf,%lf%n", &v[0], &v[1], &v[2], &used) == 3 && s[used] == 0);
    if (!ok || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2]) || v[0] == 0 ||
        !(v[2] > 0)) {
        snprintf(err, errlen, "--input-scale '%s': expected unit, raw, a scale S or S,MEAN,STD "
                              "(the model receives (pixel * S - MEAN) / STD for pixels 0..1; "
                              "S non-zero, STD positive)", s);
        return -1;
    }
    *in = (struct dg_input_spec){v[0], v[1], v[2]};
    return 0;
}

void dg_input_spec_text(const struct dg_input_spec *in, char *s, size_t len)
{
    if (in->mean == 0 && in->std == 1 && (in->scale == 1 || in->scale == 255))
        snprintf(s, len, "%s", in->scale == 1 ? "unit" : "raw");
    else if (in->mean == 0 && in->std == 1)
        snprintf(s, len, "%.9g", in->scale);
    else
        snprintf(s, len, "%.9g,%.9g,%.9g", in->scale, in->mean, in->std);
}

int dg_keras_load(const char *path, struct dg_keras_model *km, char *err, size_t errlen)
{
    return dg_keras_load_opts(path, NULL, km, err, errlen);
}

/* Reads the model from b->file (open, closed here): the version (archive_version, else the
 * file's attribute), the topology and the weights. 0, or -1 with b->err. */
static int load_open_file(struct kb *b, const char *archive_version)
{
    struct dg_keras_model *km = b->km;
    if (archive_version)
        km->keras_version = strdup(archive_version);
    /* read first: the layer conversion refuses Keras 1.x by it */
    if (!km->keras_version &&
        h5r_attr_string(b->file, ".", "keras_version", &km->keras_version, b->err, b->errlen))
        km->keras_version = strdup("unknown");
    int rc = parse_and_build(b);
    H5Fclose(b->file);
    return rc;
}

/* The end of a load whose result is rc: km's strings and model filled in, or km freed.
 * sha256 is the source's (NULL after a failure, or out of memory). 0 or -1 with err. */
static int load_finish(int rc, const char *path, char *sha256, struct dg_keras_model *km,
                       char *err, size_t errlen)
{
    km->source = strdup(base_name(path));
    km->sha256 = sha256;
    if (rc == 0 && (!km->sha256 || !km->source || !km->name || !km->keras_version)) {
        snprintf(err, errlen, "%s: out of memory or read error", path);
        rc = -1;
    }
    if (rc) {
        dg_keras_free(km);
        return -1;
    }
    kb_sanitize(km->name), kb_sanitize(km->source), kb_sanitize(km->keras_version);
    struct dg_model *m = &km->model;
    m->name = km->name;
    m->source = km->source;
    m->source_sha256 = km->sha256;
    m->keras_version = km->keras_version;
    m->ops = km->ops;
    m->input_scale = km->input_text;
    return 0;
}

static const struct dg_keras_opts default_opts = {0};

int dg_keras_load_opts(const char *path, const struct dg_keras_opts *o,
                       struct dg_keras_model *km, char *err, size_t errlen)
{
    memset(km, 0, sizeof *km);
    const int sig = check_signature(path, err, errlen);
    if (sig < 0)
        return -1;
    struct dg_keras_archive ka = {0};
    if (sig == 1 && dg_keras_archive_open(path, &ka, err, errlen))
        return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported here, with the file name */
    struct kb b = {.km = km, .path = path, .err = err, .errlen = errlen,
                   .opts = o ? o : &default_opts, .config_text = ka.config};
    b.file = H5Fopen(sig == 1 ? ka.weights_path : path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (b.file < 0) {
        snprintf(err, errlen, "%s%s: libhdf5 cannot open it (truncated or corrupt?)", path,
                 sig == 1 ? ": its model.weights.h5" : "");
        dg_keras_archive_close(&ka);
        return -1;
    }
    int rc = load_open_file(&b, ka.keras_version);
    dg_keras_archive_close(&ka);
    return load_finish(rc, path, rc ? NULL : sha256_hex(path), km, err, errlen);
}

int dg_keras_load_image(const void *img, size_t len, const char *name,
                        const struct dg_keras_opts *o, struct dg_keras_model *km, char *err,
                        size_t errlen)
{
    memset(km, 0, sizeof *km);
    int sig = signature_kind(img, len, name, err, errlen);
    if (sig == 1)
        snprintf(err, errlen, "%s: a .keras archive: load it from its file", name);
    if (sig != 0)
        return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    struct kb b = {.km = km, .path = name, .err = err, .errlen = errlen,
                   .opts = o ? o : &default_opts};
    /* the core driver reads the image from memory; no backing store is written */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    b.file = fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 &&
                     H5Pset_file_image(fapl, (void *)img, len) >= 0
                 ? H5Fopen(name, H5F_ACC_RDONLY, fapl)
                 : -1;
    if (fapl >= 0)
        H5Pclose(fapl);
    if (b.file < 0) {
        snprintf(err, errlen, "%s: libhdf5 cannot open it (truncated or corrupt?)", name);
        return -1;
    }
    int rc = load_open_file(&b, NULL);
    char *sha = NULL;
    if (!rc) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, img, len);
        sha = hex_of(h);
    }
    return load_finish(rc, name, sha, km, err, errlen);
}

void dg_keras_free(struct dg_keras_model *km)
{
    for (int i = 0; i < km->n_arrays; i++)
        free(km->arrays[i]);
    free(km->arrays);
    free(km->ops);
    free(km->layers);
    free(km->name), free(km->source), free(km->sha256), free(km->keras_version);
    memset(km, 0, sizeof *km);
}
