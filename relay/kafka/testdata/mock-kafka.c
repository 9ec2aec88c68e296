/*
 * A Kafka cluster for tests: librdkafka's mock cluster in a process of its own.
 *   mock-kafka BROKERS TOPIC PARTITIONS [TOPIC PARTITIONS ...]
 * Prints the bootstrap servers on stdout, then reads commands on stdin ("down ID", "up ID":
 * take a broker down/up; each answered with "ok"), and exits when stdin closes or on SIGTERM.
 * Topics are created here because the mock does not implement CreateTopics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
  if (argc < 4 || (argc - 2) % 2 != 0) {
    fprintf(stderr, "usage: %s BROKERS TOPIC PARTITIONS [TOPIC PARTITIONS ...]\n", argv[0]);
    return 2;
  }
  int brokers = atoi(argv[1]);
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }
  for (int i = 2; i + 1 < argc; i += 2) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[i], atoi(argv[i + 1]), brokers);
    if (err) { fprintf(stderr, "topic %s: %s\n", argv[i], rd_kafka_err2str(err)); return 1; }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    int id;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (sscanf(line, "down %d", &id) == 1) err = rd_kafka_mock_broker_set_down(mc, id);
    else if (sscanf(line, "up %d", &id) == 1) err = rd_kafka_mock_broker_set_up(mc, id);
    else { printf("error unknown command\n"); fflush(stdout); continue; }
    printf(err ? "error %s\n" : "ok\n", rd_kafka_err2str(err));
    fflush(stdout);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
