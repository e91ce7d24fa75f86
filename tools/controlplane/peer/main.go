// The benchmark peer: a minimal controller-runtime operator doing the creation path of our
// Database operator (tools/bench_peer.ts runs both on one control plane). For each Database it
// creates or updates the Secret `<name>-credentials` (random password, the same keys as ours),
// the Services `<name>` and (with standbys) `<name>-pods`, and the StatefulSet `<name>`, all controlled by the
// Database, and reports status phase Creating, then Ready once the StatefulSet's ready replicas
// reach spec.replicas, with the conditions Ready, Progressing and Degraded.
//
// It is written the way a controller-runtime user would write it, not tuned: the builder's
// For(Database).Owns(Secret, Service, StatefulSet), controllerutil.CreateOrUpdate reading from
// the shared cache, a merge patch for the status, the default (priority) queue with the seed's
// exponential limiter 5 ms -> 1000 s, a field index on spec.environment, and the default cache
// (all Secrets, Services and StatefulSets, managedFields kept). Client rate limiting is off, as
// it is for our operator in the benchmarks.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const postgresPort = 5432

func main() {
	// --kubeconfig is registered by controller-runtime's config package and read by GetConfig.
	workers := flag.Int("max-concurrent-reconciles", 2, "Reconciles running at once")
	metricsAddr := flag.String("metrics-bind-address", ":8080", "Address of the metrics endpoint")
	probeAddr := flag.String("health-probe-bind-address", ":8081", "Address of /healthz and /readyz")
	withEvents := flag.Bool("events", true, "Record Created and Ready Events, as our operator does")
	initScript := flag.String("init-script", "", "File with the init container's bash program "+
		"(ours: the credentials-sync script, so both operators' pods weigh the same); none: `true`")
	flag.Parse()
	ctrl.SetLogger(zap.New())
	log := ctrl.Log.WithName("peer")
	if *initScript != "" {
		program, err := os.ReadFile(*initScript)
		must(err)
		initProgram = string(program)
	}

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS = -1 // No client-side rate limit (a negative QPS disables client-go's limiter).
	cfg.Burst = 0
	cfg.UserAgent = "postgres-operator-peer"

	scheme := runtime.NewScheme()
	must(clientgoscheme.AddToScheme(scheme))
	must(addToScheme(scheme))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: *probeAddr,
		LeaderElection:         false,
	})
	must(err)
	ctx := ctrl.SetupSignalHandler()
	must(mgr.GetFieldIndexer().IndexField(ctx, &Database{}, "spec.environment",
		func(o client.Object) []string {
			if env := o.(*Database).Spec.Environment; env != "" {
				return []string{env}
			}
			return nil
		}))
	r := &reconciler{Client: mgr.GetClient(), scheme: scheme}
	if *withEvents {
		r.events = mgr.GetEventRecorder("postgres-operator-peer")
	}
	must(ctrl.NewControllerManagedBy(mgr).
		Named("database").
		For(&Database{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.Secret{}).
		Owns(&corev1.Service{}).
		Owns(&appsv1.StatefulSet{}).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: *workers,
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](
				5*time.Millisecond, 1000*time.Second),
		}).
		Complete(r))
	must(mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }))
	// Ready once every informer has synced, like our operator's /readyz.
	must(mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		wait, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(wait) {
			return errors.New("caches not synced")
		}
		return nil
	}))
	log.Info("starting", "maxConcurrentReconciles", *workers)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

type reconciler struct {
	client.Client
	scheme *runtime.Scheme
	events events.EventRecorder // nil: no Events
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var db Database
	if err := r.Get(ctx, req.NamespacedName, &db); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // Deleted: GC removes what it owned.
	}
	if !db.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	password, err := r.ensureSecret(ctx, &db)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureService(ctx, &db, db.Name, false); err != nil {
		return ctrl.Result{}, err
	}
	// As ours: the headless Service only with standbys, the only pods that use its DNS names.
	if db.Spec.Replicas > 1 {
		if err := r.ensureService(ctx, &db, db.Name+"-pods", true); err != nil {
			return ctrl.Result{}, err
		}
	}
	sts, err := r.ensureStatefulSet(ctx, &db, password)
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.updateStatus(ctx, &db, sts)
}

func selectorLabels(db *Database) map[string]string {
	return map[string]string{"app": "database", "database": db.Name}
}

func labels(db *Database) map[string]string {
	l := selectorLabels(db)
	l["app.kubernetes.io/name"] = "postgresql"
	l["app.kubernetes.io/instance"] = db.Name
	l["app.kubernetes.io/managed-by"] = "postgres-operator"
	l["app.kubernetes.io/part-of"] = "postgres-operator"
	return l
}

func setLabels(obj metav1.Object, want map[string]string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	for k, v := range want {
		l[k] = v
	}
	obj.SetLabels(l)
}

func (r *reconciler) created(db *Database, op controllerutil.OperationResult, kind, name string) {
	if op == controllerutil.OperationResultCreated && r.events != nil {
		r.events.Eventf(db, nil, corev1.EventTypeNormal, "Created", "Create", "Created %s %s", kind, name)
	}
}

// ensureSecret keeps `<name>-credentials`; an existing password is never replaced.
func (r *reconciler) ensureSecret(ctx context.Context, db *Database) (string, error) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: db.Name + "-credentials", Namespace: db.Namespace}}
	var password string
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, secret, func() error {
		setLabels(secret, labels(db))
		password = string(secret.Data["password"])
		if password == "" {
			password = generatePassword()
		}
		if secret.Type == "" {
			secret.Type = corev1.SecretTypeOpaque
		}
		host := fmt.Sprintf("%s.%s.svc", db.Name, db.Namespace)
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		for k, v := range map[string]string{
			"username": db.Spec.Username,
			"password": password,
			"database": db.Spec.DatabaseName,
			"host":     host,
			"port":     fmt.Sprint(postgresPort),
			"uri": fmt.Sprintf("postgresql://%s:%s@%s:%d/%s", url.PathEscape(db.Spec.Username),
				url.PathEscape(password), host, postgresPort, url.PathEscape(db.Spec.DatabaseName)),
		} {
			secret.Data[k] = []byte(v)
		}
		return controllerutil.SetControllerReference(db, secret, r.scheme)
	})
	if err != nil {
		return "", err
	}
	r.created(db, op, "Secret", secret.Name)
	return password, nil
}

var servicePorts = []corev1.ServicePort{{
	Name: "postgres", Port: postgresPort, Protocol: corev1.ProtocolTCP,
	TargetPort: intstr.FromString("postgres"),
}}

// ensureService keeps the read-write Service `<name>` (the primary) or the headless `<name>-pods`.
func (r *reconciler) ensureService(ctx context.Context, db *Database, name string, headless bool) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: db.Namespace}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, svc, func() error {
		setLabels(svc, labels(db))
		selector := selectorLabels(db)
		if headless {
			if svc.CreationTimestamp.IsZero() {
				svc.Spec.ClusterIP = corev1.ClusterIPNone
			}
			svc.Spec.PublishNotReadyAddresses = true
		} else {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
			selector["statefulset.kubernetes.io/pod-name"] = db.Name + "-0"
		}
		svc.Spec.Selector = selector
		svc.Spec.Ports = servicePorts
		return controllerutil.SetControllerReference(db, svc, r.scheme)
	})
	if err == nil {
		r.created(db, op, "Service", name)
	}
	return err
}

// ensureStatefulSet creates the StatefulSet with its whole spec, and afterwards keeps only the
// fields a Database can change (replicas, image, the credentials digest), so that fields the
// API server defaults do not cause an update at every reconcile.
func (r *reconciler) ensureStatefulSet(ctx context.Context, db *Database, password string) (*appsv1.StatefulSet, error) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: db.Name, Namespace: db.Namespace}}
	digest := sha256.Sum256([]byte(db.Spec.Username + "\n" + password))
	credentials := hex.EncodeToString(digest[:])[:16]
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, sts, func() error {
		setLabels(sts, labels(db))
		if sts.CreationTimestamp.IsZero() {
			sts.Spec = statefulSetSpec(db)
		}
		sts.Spec.Replicas = &db.Spec.Replicas
		for i := range sts.Spec.Template.Spec.Containers {
			sts.Spec.Template.Spec.Containers[i].Image = db.Spec.Image
		}
		for i := range sts.Spec.Template.Spec.InitContainers {
			sts.Spec.Template.Spec.InitContainers[i].Image = db.Spec.Image
		}
		if sts.Spec.Template.Annotations == nil {
			sts.Spec.Template.Annotations = map[string]string{}
		}
		sts.Spec.Template.Annotations["database.example.com/credentials-version"] = credentials
		return controllerutil.SetControllerReference(db, sts, r.scheme)
	})
	if err == nil {
		r.created(db, op, "StatefulSet", sts.Name)
	}
	return sts, err
}

// initProgram is what the init container runs (--init-script): the peer does not sync
// credentials, but its pods carry our script so that both operators' pods cost the control
// plane the same.
var initProgram = "true"

func statefulSetSpec(db *Database) appsv1.StatefulSetSpec {
	const dataDir = "/var/lib/postgresql/data"
	uid := int64(999)
	fromSecret := func(key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: db.Name + "-credentials"}, Key: key,
		}}
	}
	env := []corev1.EnvVar{
		{Name: "POSTGRES_DB", Value: db.Spec.DatabaseName},
		{Name: "POSTGRES_USER", ValueFrom: fromSecret("username")},
		{Name: "POSTGRES_PASSWORD", ValueFrom: fromSecret("password")},
		{Name: "PGDATA", Value: dataDir + "/pgdata"},
	}
	resources := corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("25m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
	}}
	if db.Spec.Resources != nil {
		resources = *db.Spec.Resources
	}
	isReady := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c",
		`exec pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"`}}}
	no, yes := false, true
	security := &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	data := corev1.VolumeMount{Name: "data", MountPath: dataDir}
	claim := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: labels(db)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse(db.Spec.Storage.Size),
			}},
		},
	}
	if db.Spec.Storage.StorageClass != "" {
		claim.Spec.StorageClassName = &db.Spec.Storage.StorageClass
	}
	fsPolicy := corev1.FSGroupChangeOnRootMismatch
	return appsv1.StatefulSetSpec{
		Replicas:            &db.Spec.Replicas,
		ServiceName:         db.Name + "-pods",
		PodManagementPolicy: appsv1.ParallelPodManagement,
		Selector:            &metav1.LabelSelector{MatchLabels: selectorLabels(db)},
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels(db)},
			Spec: corev1.PodSpec{
				EnableServiceLinks:           &no,
				AutomountServiceAccountToken: &no,
				SecurityContext: &corev1.PodSecurityContext{
					RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid,
					FSGroupChangePolicy: &fsPolicy,
					SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				},
				InitContainers: []corev1.Container{{
					Name: "sync-credentials", Image: db.Spec.Image,
					Command: []string{"bash", "-c", initProgram}, Env: env, Resources: resources,
					SecurityContext: security,
					VolumeMounts:    []corev1.VolumeMount{data, {Name: "tmp", MountPath: "/tmp"}},
				}},
				Containers: []corev1.Container{{
					Name:  "postgres",
					Image: db.Spec.Image,
					Ports: []corev1.ContainerPort{{Name: "postgres", ContainerPort: postgresPort, Protocol: corev1.ProtocolTCP}},
					Env: append(append([]corev1.EnvVar{}, env...), corev1.EnvVar{Name: "POD_IP",
						ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}),
					Resources:       resources,
					StartupProbe:    &corev1.Probe{ProbeHandler: isReady, PeriodSeconds: 5, TimeoutSeconds: 5, FailureThreshold: 120},
					LivenessProbe:   &corev1.Probe{ProbeHandler: isReady, PeriodSeconds: 20, TimeoutSeconds: 5, FailureThreshold: 6},
					ReadinessProbe:  &corev1.Probe{ProbeHandler: isReady, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3},
					SecurityContext: security,
					VolumeMounts: []corev1.VolumeMount{data, {Name: "run", MountPath: "/var/run/postgresql"},
						{Name: "tmp", MountPath: "/tmp"}, {Name: "shm", MountPath: "/dev/shm"}},
				}},
				Volumes: []corev1.Volume{
					{Name: "run", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
						Medium: corev1.StorageMediumMemory, SizeLimit: ptrQuantity("256Mi"),
					}}},
				},
			},
		},
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
	}
}

// updateStatus writes phase, readiness and conditions with a merge patch when they changed.
func (r *reconciler) updateStatus(ctx context.Context, db *Database, sts *appsv1.StatefulSet) error {
	before := db.DeepCopy()
	ready := sts.Status.ObservedGeneration >= sts.Generation &&
		sts.Status.ReadyReplicas >= db.Spec.Replicas && sts.Status.UpdatedReplicas >= db.Spec.Replicas
	s := &db.Status
	s.Endpoint = fmt.Sprintf("%s.%s.svc:%d", db.Name, db.Namespace, postgresPort)
	s.SecretName = db.Name + "-credentials"
	s.ObservedGeneration = db.Generation
	s.ReadyReplicas = sts.Status.ReadyReplicas
	s.Ready = ready
	progress := fmt.Sprintf("%d/%d replicas ready", sts.Status.ReadyReplicas, db.Spec.Replicas)
	set := func(t string, status metav1.ConditionStatus, reason, message string) {
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: t, Status: status,
			ObservedGeneration: db.Generation, Reason: reason, Message: message})
	}
	if ready {
		s.Phase = "Ready"
		set("Ready", metav1.ConditionTrue, "DatabaseReady", fmt.Sprintf("All %d replicas are ready", db.Spec.Replicas))
		set("Progressing", metav1.ConditionFalse, "Reconciled", "The database matches its spec")
	} else {
		s.Phase = "Creating"
		set("Ready", metav1.ConditionFalse, "Creating", progress)
		set("Progressing", metav1.ConditionTrue, "RollingOut", progress)
	}
	set("Degraded", metav1.ConditionFalse, "AsExpected", "No problems found")
	if equality.Semantic.DeepEqual(before.Status, db.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, db, client.MergeFrom(before)); err != nil {
		return err
	}
	if ready && !before.Status.Ready && r.events != nil {
		r.events.Eventf(db, nil, corev1.EventTypeNormal, "Ready", "Reconcile", "All replicas are ready")
	}
	return nil
}

// generatePassword returns 32 URL-safe characters (192 random bits), like ours.
func generatePassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.URLEncoding.EncodeToString(b)
}

func ptrQuantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
