# ruff: noqa: E501 - a data table: one template per line reads better than wrapped strings
"""Message templates for the synthetic log generator, per format, with weights and levels.

Written for riverbed after the message shapes and level mix of the loghub samples (HDFS mostly
INFO with ~4% WARN; Hadoop with many WARN and some ERROR/FATAL; Spark INFO; Apache notice and
error; syslog auth failures). No loghub text is copied. `{name}` placeholders are filled with
fresh random values (see `synthetic._MAKERS`).

Syslog lines (linux, openssh) carry no level: readers derive one from the words, so the levels
written here for them are the ones a reader derives (logwatch's `level_from_content`;
tests/unit/test_logwatch_parse.py checks they agree), and the generator states exactly what a
reader will find. The bursts pick their error templates by these levels.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Template:
    weight: float
    level: str
    component: str
    text: str
    thread: str = ""


_IPC = "IPC Server handler {handler} on 62270"
_RM = "RMCommunicator Allocator"

TEMPLATES: dict[str, list[Template]] = {
    "hdfs": [
        Template(
            314,
            "INFO",
            "dfs.FSNamesystem",
            "BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip}:50010 is added to blk_{blk} size {size}",
        ),
        Template(
            311,
            "INFO",
            "dfs.DataNode$PacketResponder",
            "PacketResponder {n2} for block blk_{blk} terminating",
        ),
        Template(
            292, "INFO", "dfs.DataNode$PacketResponder", "Received block blk_{blk} of size {size} from /{ip}"
        ),
        Template(
            292,
            "INFO",
            "dfs.DataNode$DataXceiver",
            "Receiving block blk_{blk} src: /{ip}:{port} dest: /{ip}:50010",
        ),
        Template(
            263,
            "INFO",
            "dfs.FSDataset",
            "Deleting block blk_{blk} file /mnt/hadoop/dfs/data/current/subdir{n}/blk_{blk}",
        ),
        Template(
            224,
            "INFO",
            "dfs.FSNamesystem",
            "BLOCK* NameSystem.delete: blk_{blk} is added to invalidSet of {ip}:50010",
        ),
        Template(
            115,
            "INFO",
            "dfs.FSNamesystem",
            "BLOCK* NameSystem.allocateBlock: /user/root/randtxt/_temporary/_task_{job}/part-{tid}. blk_{blk}",
        ),
        Template(80, "INFO", "dfs.DataNode$DataXceiver", "{ip}:50010 Served block blk_{blk} to /{ip}"),
        Template(
            80,
            "WARN",
            "dfs.DataNode$DataXceiver",
            "{ip}:50010:Got exception while serving blk_{blk} to /{ip}:",
        ),
        Template(
            4,
            "WARN",
            "dfs.DataNode",
            "{ip}:50010:Failed to transfer blk_{blk} to {ip}:50010 got java.io.IOException: Connection reset by peer",
        ),
        Template(
            2,
            "ERROR",
            "dfs.DataNode$DataXceiver",
            "{ip}:50010:DataXceiver: java.io.IOException: Block blk_{blk} is valid, and cannot be written to.",
        ),
    ],
    "hadoop": [
        Template(
            290,
            "INFO",
            "org.apache.hadoop.mapred.TaskAttemptListenerImpl",
            "Progress of TaskAttempt {attempt} is : {frac}",
            _IPC,
        ),
        Template(
            146,
            "INFO",
            "org.apache.hadoop.ipc.Client",
            "Retrying connect to server: {host}:8030. Already tried {n2} time(s); retry policy is "
            "RetryUpToMaximumCountWithFixedSleep(maxRetries=10, sleepTime=1000 MILLISECONDS)",
            _RM,
        ),
        Template(
            131,
            "INFO",
            "org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator",
            "Recalculating schedule, headroom=<memory:{bytes}, vCores:{n2}>",
            _RM,
        ),
        Template(
            130,
            "INFO",
            "org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator",
            "Reduce slow start threshold not met. completedMapsForReduceSlowstart {n2}",
            _RM,
        ),
        Template(
            40, "INFO", "org.apache.hadoop.yarn.util.RackResolver", "Resolved {host} to /default-rack", _RM
        ),
        Template(
            30,
            "INFO",
            "org.apache.hadoop.mapreduce.v2.app.job.impl.TaskAttemptImpl",
            "{attempt} TaskAttempt Transitioned from NEW to UNASSIGNED",
            "AsyncDispatcher event handler",
        ),
        Template(
            90,
            "WARN",
            "org.apache.hadoop.hdfs.LeaseRenewer",
            "Failed to renew lease for [DFSClient_NONMAPREDUCE_{pid}_1] for {secs} seconds.  Will retry shortly ...",
            "LeaseRenewer:msrabi@{host}:9000",
        ),
        Template(
            60,
            "WARN",
            "org.apache.hadoop.ipc.Client",
            "Address change detected. Old: {host}/{ip}:8030 New: {host}:8030",
            _RM,
        ),
        Template(
            20,
            "ERROR",
            "org.apache.hadoop.mapreduce.v2.app.rm.RMContainerAllocator",
            "ERROR IN CONTACTING RM. ",
            _RM,
        ),
        Template(
            1,
            "FATAL",
            "org.apache.hadoop.mapred.TaskAttemptListenerImpl",
            "Task: {attempt} - exited : java.net.NoRouteToHostException: No Route to Host from {host}/{ip} "
            "to {host}:9000 failed on socket timeout exception",
            _IPC,
        ),
    ],
    "spark": [
        Template(
            375, "INFO", "python.PythonRunner", "Times: total = {ms}, boot = {ms}, init = {ms}, finish = {n}"
        ),
        Template(305, "INFO", "executor.CoarseGrainedExecutorBackend", "Got assigned task {tid}"),
        Template(305, "INFO", "executor.Executor", "Running task {n}.0 in stage {stage}.0 (TID {tid})"),
        Template(
            300,
            "INFO",
            "executor.Executor",
            "Finished task {n}.0 in stage {stage}.0 (TID {tid}). {bytes} bytes result sent to driver",
        ),
        Template(257, "INFO", "storage.BlockManager", "Found block {rdd} locally"),
        Template(
            112,
            "INFO",
            "storage.MemoryStore",
            "Block {rdd} stored as bytes in memory (estimated size {bytes}.0 B, free 3.{n} GB)",
        ),
        Template(75, "INFO", "spark.CacheManager", "Partition {rdd} not found, computing it"),
        Template(37, "INFO", "broadcast.TorrentBroadcast", "Started reading broadcast variable {n}"),
        Template(
            8,
            "WARN",
            "storage.BlockManager",
            "Putting block {rdd} failed due to exception java.lang.OutOfMemoryError.",
        ),
        Template(
            3,
            "ERROR",
            "executor.Executor",
            "Exception in task {n}.0 in stage {stage}.0 (TID {tid}): java.io.IOException: Filesystem closed",
        ),
    ],
    "apache": [
        Template(836, "NOTICE", "httpd", "jk2_init() Found child {pid} in scoreboard slot {slot}"),
        Template(569, "NOTICE", "httpd", "workerEnv.init() ok /etc/httpd/conf/workers2.properties"),
        Template(400, "ERROR", "mod_jk", "mod_jk child workerEnv in error state {slot}"),
        Template(32, "ERROR", "httpd", "[client {pubip}] Directory index forbidden by rule: /var/www/html/"),
        Template(12, "ERROR", "httpd", "jk2_init() Can't find child {pid} in scoreboard"),
    ],
    "linux": [
        Template(909, "INFO", "ftpd", "connection from {pubip} () at Sat Jul  9 12:16:49 2005 "),
        Template(
            350,
            "ERROR",
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={pubip}  user=root",
        ),
        Template(116, "WARN", "sshd(pam_unix)", "check pass; user unknown"),
        Template(86, "INFO", "su(pam_unix)", "session opened for user {user} by (uid=0)"),
        Template(86, "INFO", "su(pam_unix)", "session closed for user {user}"),
        Template(43, "INFO", "logrotate", "ALERT exited abnormally with [1]"),
        Template(36, "INFO", "sshd(pam_unix)", "session opened for user {user} by (uid=0)"),
    ],
    "openssh": [
        Template(413, "INFO", "sshd", "Received disconnect from {pubip}: 11: Bye Bye [preauth]"),
        Template(
            384,
            "ERROR",
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={pubip}  user=root",
        ),
        Template(383, "ERROR", "sshd", "Failed password for {user} from {pubip} port {port} ssh2"),
        Template(
            135, "ERROR", "sshd", "Failed password for invalid user {user} from {pubip} port {port} ssh2"
        ),
        Template(113, "WARN", "sshd", "Invalid user {user} from {pubip}"),
        Template(
            85,
            "ERROR",
            "sshd",
            "reverse mapping checking getaddrinfo for host-{pid}.example.net [{pubip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
        ),
        Template(60, "INFO", "sshd", "Accepted password for {user} from {pubip} port {port} ssh2"),
        Template(
            10,
            "ERROR",
            "sshd",
            "error: Received disconnect from {pubip}: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
        ),
    ],
}
