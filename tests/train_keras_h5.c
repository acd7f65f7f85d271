/* train_keras_h5.c: what the trainer's .h5 says about its training, and how the writer
 * fails.
 * - training_config (tn_training_config_json): the tf.keras 2.x keys with the values
 *   Keras's loaders need (loss, metrics, loss_weights, an "Adam" optimizer_config without
 *   the keys Keras 3 refuses), and a learning rate that, read the way Keras reads it
 *   (a float32 constant, CosineDecay or PiecewiseConstantDecay), gives the rate
 *   tn_lr_at used at every step of the run.
 * - kh5_write_compiled stores it as the root attribute training_config; kh5_write does
 *   not write one.
 * - a failed write names the path and the step (creating the temporary file, renaming it)
 *   with the system's reason, and leaves no temporary file behind.
 *   tests/train_keras_h5 */
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keras_h5.h"
#include "train_net.h"

#include "check.h"

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The rate Keras's optimizer takes at iteration step from learning_rate as stored:
 * a number (its float32 variable), or a schedule's config (as tf.keras 2.x and Keras 3
 * compute CosineDecay and PiecewiseConstantDecay). NAN if it cannot read it. */
static double keras_rate(const cJSON *lr, long step)
{
    if (cJSON_IsNumber(lr))
        return lr->valuedouble;
    const char *cls = cJSON_GetStringValue(get(lr, "class_name"));
    const cJSON *c = get(lr, "config");
    if (!cls || !cJSON_IsObject(c))
        return NAN;
    if (!strcmp(cls, "CosineDecay")) {
        double steps = number(c, "decay_steps"), alpha = number(c, "alpha");
        double frac = fmin((double)step, steps) / steps;
        double decayed = (1 - alpha) * 0.5 * (1 + cos(M_PI * frac)) + alpha;
        return number(c, "initial_learning_rate") * decayed;
    }
    if (!strcmp(cls, "PiecewiseConstantDecay")) {
        const cJSON *b = get(c, "boundaries"), *v = get(c, "values");
        int i = 0;
        while (i < cJSON_GetArraySize(b) && step > cJSON_GetArrayItem(b, i)->valuedouble)
            i++;
        const cJSON *vi = cJSON_GetArrayItem(v, i);
        return cJSON_IsNumber(vi) ? vi->valuedouble : NAN;
    }
    return NAN;
}

static void expect_string(const cJSON *o, const char *key, const char *want)
{
    const char *got = cJSON_GetStringValue(get(o, key));
    CHECK(got && !strcmp(got, want), "%s: '%s', want '%s'", key, got ? got : "(none)", want);
}

/* The keys and values that do not depend on the schedule. */
static void check_fixed(const cJSON *root)
{
    expect_string(root, "loss", "sparse_categorical_crossentropy");
    const cJSON *m = get(root, "metrics");
    const char *m0 = cJSON_GetStringValue(cJSON_GetArrayItem(m, 0));
    CHECK(cJSON_GetArraySize(m) == 1 && m0 && !strcmp(m0, "accuracy"),
          "metrics is not [\"accuracy\"]");
    /* tf.keras reads training_config["loss_weights"] without a default */
    CHECK(cJSON_IsNull(get(root, "loss_weights")), "loss_weights missing or not null");
    CHECK(cJSON_IsNull(get(root, "weighted_metrics")), "weighted_metrics missing or not null");
    const cJSON *opt = get(root, "optimizer_config"), *cfg = get(opt, "config");
    expect_string(opt, "class_name", "Adam");
    expect_string(cfg, "name", "Adam");
    CHECK(number(cfg, "beta_1") == TN_ADAM_BETA1, "beta_1 %g", number(cfg, "beta_1"));
    CHECK(number(cfg, "beta_2") == TN_ADAM_BETA2, "beta_2 %g", number(cfg, "beta_2"));
    CHECK(number(cfg, "epsilon") == TN_ADAM_EPSILON, "epsilon %g", number(cfg, "epsilon"));
    CHECK(cJSON_IsFalse(get(cfg, "amsgrad")), "amsgrad is not false");
    /* Keras 3's Adam refuses both ("Argument(s) not recognized") */
    CHECK(!get(cfg, "jit_compile") && !get(cfg, "is_legacy_optimizer"),
          "optimizer config has keys Keras 3 refuses");
}

/* A run of epochs x spe steps: Keras's reading of the JSON gives tn_lr_at's rate, as
 * float32 (what the Adam step takes), at every step. */
static void check_schedule(const char *name, double lr, enum tn_lr_schedule sched, int epochs,
                           long spe)
{
    struct tn_training t;
    tn_training_init(&t, lr, sched, epochs, spe);
    char *json = tn_training_config_json(&t);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    CHECK(root != NULL, "%s: training_config is not JSON: %s", name, json ? json : "(null)");
    if (!root) {
        cJSON_free(json);
        return;
    }
    check_fixed(root);
    const cJSON *rate = get(get(get(root, "optimizer_config"), "config"), "learning_rate");
    long bad = 0, first = -1;
    double worst = 0;
    for (long g = 0; g < (long)epochs * spe; g++) {
        double ours = (float)tn_lr_at(&t, (int)(g / spe), g % spe);
        double keras = (float)keras_rate(rate, g);
        double rel = fabs(keras - ours) / fmax(fabs(ours), 1e-30);
        worst = fmax(worst, rel);
        /* cosine: both in double, the progress rounded apart: a float32 ulp at most */
        if (!(rel <= (sched == TN_LR_COSINE ? 1.2e-7 : 0)) && bad++ == 0)
            first = g;
    }
    CHECK(bad == 0, "%s: Keras's rate differs from the trainer's at %ld of %ld steps (first %ld)",
          name, bad, (long)epochs * spe, first);
    printf("%-40s %ld steps, Keras's rate = the trainer's (max rel.diff %.1e)\n", name,
           (long)epochs * spe, worst);
    cJSON_Delete(root);
    cJSON_free(json);
}

/* The learning rate is written as Python writes a float: float32 1e-3 as tf.keras does,
 * and 2 as 2.0 (json.loads would make "2" an int, which Keras 3 refuses). */
static void check_number_text(double lr, const char *want)
{
    struct tn_training t;
    tn_training_init(&t, lr, TN_LR_CONSTANT, 1, 1);
    char *json = tn_training_config_json(&t);
    CHECK(json && strstr(json, want), "lr %g: no '%s' in %s", lr, want, json ? json : "(null)");
    cJSON_free(json);
}

/* The root attribute training_config of path, or NULL (malloc'd). */
static char *read_training_config(const char *path)
{
    char *out = NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return NULL;
    if (H5Aexists(f, "training_config") > 0) {
        hid_t a = H5Aopen(f, "training_config", H5P_DEFAULT), t = H5Aget_type(a);
        char *v = NULL;
        if (H5Tis_variable_str(t) > 0 && H5Aread(a, t, &v) >= 0 && v) {
            out = strdup(v);
            H5free_memory(v);
        }
        H5Tclose(t), H5Aclose(a);
    }
    H5Fclose(f);
    return out;
}

static void check_writer(const char *dir)
{
    char path[4200], err[8192];
    float w = 0.5f;
    struct kh5_weight kw = {"kernel:0", 1, {1}, &w};
    struct kh5_layer layer = {"dense", 1, &kw};
    const char *tc = "{\"loss\":\"x\"}";

    snprintf(path, sizeof(path), "%s/model.h5", dir);
    CHECK(kh5_write_compiled(path, "{}", tc, "2.15.0", &layer, 1, err, sizeof(err)) == 0,
          "write: %s", err);
    char *got = read_training_config(path);
    CHECK(got && !strcmp(got, tc), "training_config read back: %s", got ? got : "(none)");
    free(got);
    CHECK(kh5_write(path, "{}", "2.15.0", &layer, 1, err, sizeof(err)) == 0, "write: %s", err);
    got = read_training_config(path);
    CHECK(!got, "kh5_write wrote a training_config");
    free(got);

    /* the path is a directory: the temporary file is written, the rename fails */
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", dir, (long)getpid());
    int rc = kh5_write(dir, "{}", "2.15.0", &layer, 1, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, dir) && strstr(err, "renaming") &&
              strstr(err, "Is a directory"),
          "directory as path: rc %d, '%s'", rc, err);
    CHECK(access(tmp, F_OK) != 0, "%s left behind", tmp);
    printf("a directory as path: %s\n", err);

    /* no such directory: creating the temporary file fails */
    snprintf(path, sizeof(path), "%s/no/such/model.h5", dir);
    rc = kh5_write(path, "{}", "2.15.0", &layer, 1, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, path) && strstr(err, "creating the temporary file") &&
              strstr(err, "No such file or directory"),
          "missing directory: rc %d, '%s'", rc, err);
    printf("a missing directory: %s\n", err);
}

int main(void)
{
    check_schedule("constant lr 1e-3, 3 epochs x 7 steps", 1e-3, TN_LR_CONSTANT, 3, 7);
    check_schedule("cosine lr 1e-3, 3 epochs x 7 steps", 1e-3, TN_LR_COSINE, 3, 7);
    check_schedule("cosine lr 3e-3, 30 epochs x 430 steps", 3e-3, TN_LR_COSINE, 30, 430);
    check_schedule("step lr 1e-3, 3 epochs x 7 steps", 1e-3, TN_LR_STEP, 3, 7);
    check_schedule("step lr 1e-3, 4 epochs x 24 steps", 1e-3, TN_LR_STEP, 4, 24);
    check_schedule("step lr 0.01, 1 epoch x 3 steps", 0.01, TN_LR_STEP, 1, 3);
    check_number_text(1e-3, "\"learning_rate\":0.0010000000474974513");
    check_number_text(2, "\"learning_rate\":2.0");

    char dir[] = "/tmp/train_keras_h5_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    check_writer(dir);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    printf("train_keras_h5: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
